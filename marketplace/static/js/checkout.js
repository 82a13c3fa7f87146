// Keep the fee and total in step with the chosen window (the server computes the real amounts).
(function () {
  const total = document.getElementById("total"), fee = document.getElementById("fee");
  if (!total || !fee) return;
  const yuan = (fen) => "¥" + Math.floor(fen / 100) + "." + String(fen % 100).padStart(2, "0");
  document.querySelectorAll('input[name="window"]').forEach((radio) => radio.addEventListener("change", () => {
    const f = parseInt(radio.dataset.fee, 10) || 0;
    fee.textContent = yuan(f);
    total.textContent = yuan(parseInt(total.dataset.subtotal, 10) + f);
  }));
})();
