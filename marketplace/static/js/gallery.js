// Product page photos (catalog/_gallery.html). Without this file the strip still swipes and the
// thumbnails still jump to their photo; with it, a thumbnail scrolls the strip smoothly without
// moving the page, and the thumbnail of the photo in view stays marked.
(function () {
  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    const strip = gallery.querySelector(".gallery-strip");
    const links = Array.prototype.slice.call(gallery.querySelectorAll(".gallery-thumbs a"));
    if (!strip || !links.length) return;
    function mark(index) {
      links.forEach(function (link, i) {
        if (i === index) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
    }
    links.forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        const slide = strip.children[index];
        if (!slide) return;
        event.preventDefault();
        strip.scrollTo({ left: slide.offsetLeft, behavior: "smooth" });
        mark(index);
      });
    });
    let pending = 0;
    strip.addEventListener("scroll", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        mark(Math.round(strip.scrollLeft / Math.max(1, strip.clientWidth)));
      }, 80);
    }, { passive: true });
  });
})();
