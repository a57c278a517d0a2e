/* Verify page: drop a file anywhere on the drop zone to verify it at once. The file
   input stays the accessible way (keyboard, screen readers). */
(function () {
  "use strict";
  var zone = document.getElementById("drop-zone");
  var input = document.getElementById("id_file");
  if (!zone || !input) { return; }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
    input.files = e.dataTransfer.files;
    zone.closest("form").submit();
  });
})();
