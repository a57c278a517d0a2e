/* New video: preview the chosen photo and draw the face box the server detects in it.
   No framework, no CDN. Texts come from data- attributes (translated by the template). */
(function () {
  "use strict";
  var input = document.getElementById("id_photo");
  var figure = document.getElementById("photo-preview");
  if (!input || !figure) { return; }
  var img = figure.querySelector("img");
  var box = figure.querySelector(".face-box");
  var status = document.getElementById("face-status");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  function say(text, cls) { status.textContent = text; status.className = cls || ""; }

  function firstError(data) {
    if (!data || typeof data !== "object") { return figure.dataset.failed; }
    for (var key in data) {
      if (key === "code") { continue; }
      var v = data[key];
      if (Array.isArray(v) && v.length) { return String(v[0]); }
      if (typeof v === "string") { return v; }
    }
    return figure.dataset.failed;
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    box.hidden = true;
    if (!file) { figure.hidden = true; say(""); return; }
    if (img.dataset.objectUrl) { URL.revokeObjectURL(img.dataset.objectUrl); }
    img.dataset.objectUrl = URL.createObjectURL(file);
    img.src = img.dataset.objectUrl;
    figure.hidden = false;
    say(figure.dataset.finding, "help");
    var body = new FormData();
    body.append("photo", file);
    fetch(figure.dataset.url, {method: "POST", body: body, credentials: "same-origin",
                               headers: {"X-CSRFToken": csrf ? csrf.value : "", "Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); })
      .then(function (res) {
        var data = res.data;
        if (!res.ok) { say(firstError(data), "bad"); return; }
        if (data.faces.length) {
          var b = data.faces[0].box;
          box.style.left = (100 * b[0] / data.width) + "%";
          box.style.top = (100 * b[1] / data.height) + "%";
          box.style.width = (100 * (b[2] - b[0]) / data.width) + "%";
          box.style.height = (100 * (b[3] - b[1]) / data.height) + "%";
          box.hidden = false;
        }
        if (data.ok) { say(figure.dataset.found, "ok"); } else { say(data.problem, "bad"); }
        figure.dataset.faces = String(data.faces.length);
      })
      .catch(function () { say(figure.dataset.failed, "bad"); });
  });
  // A photo chosen before this script loaded (slow network, back button) is previewed too.
  if (input.files && input.files.length) { input.dispatchEvent(new Event("change")); }
})();
