/* New video: sliders show their value in the reader's language; the gaze pad moves the
   two gaze sliders; the purposes and channels offered follow the chosen subject's consent;
   the chosen (or kept) photo is previewed, its face boxed and checked against the chosen
   subject by the server (the gate's identity rules). No framework, no CDN. Texts come from
   data- attributes and the server (translated). */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var numbers = new Intl.NumberFormat(lang, {maximumFractionDigits: 2});

  // Sliders: the value beside each.
  document.querySelectorAll("input[type=range]").forEach(function (range) {
    var out = document.getElementById(range.id + "-value");
    function show() { if (out) { out.textContent = numbers.format(Number(range.value)); } }
    range.addEventListener("input", show);
    show();
  });

  // Gaze: a pad to point with (the sliders stay the keyboard's way in).
  document.querySelectorAll("[data-gaze]").forEach(function (gaze) {
    var pad = gaze.querySelector(".gaze-pad"), dot = gaze.querySelector(".gaze-dot");
    var ranges = gaze.querySelectorAll("input[type=range]");
    if (!pad || ranges.length !== 2) { return; }
    var x = ranges[0], y = ranges[1];
    function frac(r) { return (Number(r.value) - Number(r.min)) / (Number(r.max) - Number(r.min)); }
    function place() { dot.style.left = (100 * frac(x)) + "%"; dot.style.top = (100 * (1 - frac(y))) + "%"; }
    function set(r, f) {
      var lo = Number(r.min), hi = Number(r.max), step = Number(r.step) || 0.05;
      var v = Math.round((lo + Math.min(1, Math.max(0, f)) * (hi - lo)) / step) * step;
      r.value = v.toFixed(2);
      r.dispatchEvent(new Event("input"));
    }
    function point(ev) {
      var b = pad.getBoundingClientRect();
      set(x, (ev.clientX - b.left) / b.width);
      set(y, 1 - (ev.clientY - b.top) / b.height);
    }
    var dragging = false;
    pad.addEventListener("pointerdown", function (ev) { dragging = true; pad.setPointerCapture(ev.pointerId); point(ev); });
    pad.addEventListener("pointermove", function (ev) { if (dragging) { point(ev); } });
    pad.addEventListener("pointerup", function () { dragging = false; });
    x.addEventListener("input", place);
    y.addEventListener("input", place);
    pad.hidden = false;
    place();
  });

  var scopesNode = document.getElementById("consent-scopes");
  var scopes = scopesNode ? JSON.parse(scopesNode.textContent) : {};
  var subject = document.getElementById("id_subject");
  var purpose = document.getElementById("id_purpose");
  var channel = document.getElementById("id_channel");

  // Only what the chosen subject's consent covers is offered.
  function limit(select, allowed) {
    if (!select) { return; }
    Array.prototype.forEach.call(select.options, function (o) {
      var off = o.value !== "" && allowed !== null && allowed.indexOf(o.value) < 0;
      o.hidden = off;
      o.disabled = off;
      if (off && o.selected) { select.value = ""; }
    });
  }
  function followSubject() {
    var scope = subject && scopes[subject.value];
    limit(purpose, scope ? scope.purposes : null);
    limit(channel, scope && scope.channels.length ? scope.channels : null);
    if (scope && purpose && !purpose.value && scope.purposes.length === 1) { purpose.value = scope.purposes[0]; }
  }
  var none = document.getElementById("no-subject");
  if (none && subject && Object.keys(scopes).length === 0) { none.hidden = false; }

  var input = document.getElementById("id_photo");
  var figure = document.getElementById("photo-preview");
  var current = null;   // the photo being previewed (a File or a Blob)
  var status = document.getElementById("face-status");
  var identity = document.getElementById("face-identity");
  var box = figure ? figure.querySelector(".face-box") : null;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  function say(text, cls) { status.textContent = text; status.className = cls || ""; }
  function sayIdentity(text, cls) { identity.textContent = text || ""; identity.className = cls || ""; }

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

  function check() {
    if (!current) { return; }
    say(figure.dataset.finding, "help");
    sayIdentity("");
    var body = new FormData();
    body.append("photo", current, current.name || "photo");
    if (subject && scopes[subject.value]) { body.append("subject", subject.value); }
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
        var other = data.identity && data.identity.matches === false;
        // "this is the face that will be animated" only where it may be: not for someone else's face.
        if (!data.ok) { say(data.problem, "bad"); } else { say(other ? "" : figure.dataset.found, "ok"); }
        if (data.identity) { sayIdentity(data.identity.message, data.identity.matches ? "ok" : "bad"); }
        figure.dataset.faces = String(data.faces.length);
        figure.dataset.matches = data.identity ? String(data.identity.matches) : "";
      })
      .catch(function () { say(figure.dataset.failed, "bad"); });
  }

  function preview(file) {
    current = file;
    if (box) { box.hidden = true; }
    var old = figure.querySelector("img");
    if (old) { URL.revokeObjectURL(old.src); old.remove(); }
    if (!file) { figure.hidden = true; say(""); sayIdentity(""); return; }
    // The image is added only once it has loaded: never a broken-image placeholder.
    var img = new Image();
    img.alt = figure.dataset.alt;
    img.onload = function () { figure.insertBefore(img, figure.firstChild); figure.hidden = false; };
    img.onerror = function () { URL.revokeObjectURL(img.src); };
    img.src = URL.createObjectURL(file);
    figure.hidden = false;
    check();
  }

  if (subject) {
    subject.addEventListener("change", function () { followSubject(); check(); });
    followSubject();
  }
  // A newly chosen file or value clears the error the last submit showed for that field.
  document.querySelectorAll("#new-job input, #new-job select").forEach(function (field) {
    field.addEventListener("change", function () {
      var name = field.name.replace(/_[01]$/, "");
      var error = document.getElementById(name + "-error");
      if (error) { error.hidden = true; }
    });
  });
  if (input && figure) {
    input.addEventListener("change", function () { preview(input.files && input.files[0]); });
    if (input.files && input.files.length) {
      preview(input.files[0]);
    } else if (figure.dataset.kept) {
      // The photo kept from the last attempt: preview and check it as if chosen again.
      fetch(figure.dataset.kept, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.blob() : null; })
        .then(function (blob) { if (blob) { preview(blob); } });
    }
  }
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
