// Fill the village list when a town is chosen (the form also works without this script:
// the server re-renders the villages of the submitted town).
(function () {
  const town = document.querySelector("[data-villages-url]");
  const village = document.getElementById("village_id");
  if (!town || !village) return;
  town.addEventListener("change", async function () {
    const first = village.options[0];
    village.replaceChildren(first);
    if (!town.value || town.value === "0") return;
    const response = await fetch(town.dataset.villagesUrl + "?town=" + encodeURIComponent(town.value));
    if (!response.ok) return;
    for (const v of await response.json()) village.add(new Option(v.name, v.id));
  });
})();
