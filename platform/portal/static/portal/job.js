/* Live progress of a job: polls the job API until the job is final, then reloads
   the page to show the player (or the reason it stopped). */
(function () {
  "use strict";
  var el = document.getElementById("job-live");
  if (!el) { return; }
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var status = document.getElementById("job-status");
  var labelsEl = document.getElementById("job-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  function poll() {
    fetch(el.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        percent.textContent = job.progress + " %";
        var sentence = document.getElementById("job-status-sentence");
        if (labels[job.status]) {
          status.textContent = labels[job.status].label;
          if (sentence) { sentence.textContent = labels[job.status].sentence; }
        }
        status.className = "status status-" + job.status;
        var checking = document.getElementById("job-checking");  // the note while the face is checked
        if (checking && job.status !== "checking") { checking.hidden = true; }
        if (["succeeded", "failed", "denied", "cancelled"].indexOf(job.status) >= 0) {
          window.location.reload();
        } else {
          setTimeout(poll, 1000);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
