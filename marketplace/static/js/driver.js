// The driver's page (司机): adds the phone's position and clock to each recorded action, refuses a
// photo over the size limit before it is sent, and keeps a double tap from sending a form twice.
// Every form works without this file (the server records the time and checks the photo).
(function () {
  "use strict";
  let lastFix = null; // {lat, lon, accuracy, at}
  const FRESH_MS = 2 * 60 * 1000;

  function remember(position) {
    lastFix = {
      lat: position.coords.latitude,
      lon: position.coords.longitude,
      accuracy: position.coords.accuracy,
      at: Date.now(),
    };
  }

  function fill(form) {
    const set = function (name, value) {
      const input = form.querySelector('input[type="hidden"][name="' + name + '"]');
      if (input && value !== undefined && value !== null) input.value = String(value);
    };
    if (lastFix && Date.now() - lastFix.at < FRESH_MS) {
      set("lat", lastFix.lat.toFixed(6));
      set("lon", lastFix.lon.toFixed(6));
      set("accuracy", Math.round(lastFix.accuracy));
    }
    set("device_at", Date.now());
  }

  function tooLarge(form) {
    const limit = Number(form.dataset.maxBytes || 0);
    if (!limit) return false;
    return Array.prototype.some.call(form.querySelectorAll('input[type="file"]'), function (input) {
      return Array.prototype.some.call(input.files || [], function (file) { return file.size > limit; });
    });
  }

  function send(form) {
    fill(form);
    form.classList.add("drv-sending");
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    HTMLFormElement.prototype.submit.call(form);
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("drv-form")) return;
    event.preventDefault();
    if (form.dataset.sent) return; // a second tap while the first is on its way
    if (tooLarge(form)) {
      window.alert(form.dataset.tooLarge);
      return;
    }
    form.dataset.sent = "1";
    if (!navigator.geolocation || (lastFix && Date.now() - lastFix.at < FRESH_MS)) {
      send(form);
      return;
    }
    // ask once, briefly: a position helps, but never holds up a delivery
    let done = false;
    const finish = function () { if (!done) { done = true; send(form); } };
    navigator.geolocation.getCurrentPosition(function (position) { remember(position); finish(); }, finish,
      { enableHighAccuracy: true, timeout: 4000, maximumAge: FRESH_MS });
    window.setTimeout(finish, 5000);
  });

  // back to a page kept in the browser's memory: its forms can be sent again
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form.drv-form").forEach(function (form) {
      delete form.dataset.sent;
      form.classList.remove("drv-sending");
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
    });
  });

  // where permission is already given, keep a recent fix so that a tap is sent at once
  if (navigator.geolocation && navigator.permissions && document.querySelector(".drv-form")) {
    navigator.permissions.query({ name: "geolocation" }).then(function (status) {
      if (status.state === "granted") {
        navigator.geolocation.watchPosition(remember, function () {}, { enableHighAccuracy: true, maximumAge: FRESH_MS });
      }
    }).catch(function () {});
  }
})();
