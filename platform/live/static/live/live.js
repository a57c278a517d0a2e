// The live session page: the voice (microphone or a file played in real time) goes to
// the server as 16-bit PCM over the session's WebSocket; the talking portrait comes
// back as fragmented MP4 (video and audio) into Media Source Extensions.
(function () {
  "use strict";
  const root = document.getElementById("live");
  const text = JSON.parse(document.getElementById("live-messages").textContent);
  const video = document.getElementById("live-video");
  const state = document.getElementById("live-state");
  const ended = document.getElementById("live-ended");
  const startBtn = document.getElementById("live-start");
  const stopBtn = document.getElementById("live-stop");
  const recording = document.getElementById("live-recording");
  const voiceChoice = document.getElementById("live-voice");
  const KINDS = {1: "video_init", 2: "video", 3: "audio_init", 4: "audio"};
  const NORMAL_ENDS = ["stopped", "disconnected", "max_length", "voice_too_fast"];
  const live = window.veritalkLive = {ready: null, frames: 0, ended: null};
  let ws = null, ctx = null, source = null, node = null, ms = null, sendVoice = false;
  const buffers = {video: null, audio: null}, queues = {video: [], audio: []};

  function say(msg) { state.textContent = msg; }

  function pump(kind) {
    const b = buffers[kind];
    if (b && !b.updating && queues[kind].length && ms.readyState === "open") {
      try { b.appendBuffer(queues[kind].shift()); } catch (e) { console.warn(e); }
    }
  }

  function openMedia(ready) {
    if (!window.MediaSource || !MediaSource.isTypeSupported(ready.video_mime)) { say(text.unsupported); return; }
    ms = new MediaSource();
    video.src = URL.createObjectURL(ms);
    ms.addEventListener("sourceopen", function () {
      const kinds = MediaSource.isTypeSupported(ready.audio_mime) ? ["video", "audio"] : ["video"];
      for (const kind of kinds) {
        buffers[kind] = ms.addSourceBuffer(kind === "video" ? ready.video_mime : ready.audio_mime);
        buffers[kind].mode = "segments";
        buffers[kind].addEventListener("updateend", function () { pump(kind); });
        pump(kind);
      }
    }, {once: true});
    // Stay at the live edge: a viewer that fell behind (a busy tab) jumps ahead.
    setInterval(function () {
      const r = video.buffered;
      if (r.length && r.end(r.length - 1) - video.currentTime > 0.35) video.currentTime = r.end(r.length - 1) - 0.05;
      if (video.paused && r.length) video.play().catch(function () {});
    }, 250);
  }

  function onMedia(data) {
    const view = new DataView(data);
    const kind = KINDS[view.getUint8(0)];
    const body = data.slice(5);
    const key = kind.startsWith("video") ? "video" : "audio";
    if (kind === "video") live.frames += 1;
    queues[key].push(body);
    pump(key);
  }

  function finish(msg) {
    live.ended = msg;
    sendVoice = false;
    if (source && source.stop) { try { source.stop(); } catch (e) { /* already stopped */ } }
    if (ctx) ctx.close();
    startBtn.disabled = true;
    stopBtn.disabled = true;
    voiceChoice.hidden = true;
    const words = text[msg.reason] || msg.reason;
    if (msg.status === "ended") {
      say(words);
      if (msg.recording) recording.hidden = false;
    } else {
      say("");
      ended.textContent = words + (msg.message ? " " + msg.message : "");
      ended.hidden = false;
    }
    root.dataset.status = msg.status || "stopped";
  }

  async function start() {
    const useFile = document.querySelector("input[name=source]:checked").value === "file";
    const file = document.getElementById("live-file").files[0];
    if (useFile && !file) { say(text.no_file); return; }
    startBtn.disabled = true;
    say(text.connecting);
    ctx = new AudioContext({sampleRate: 48000});
    if (ctx.sampleRate !== 48000 && ctx.sampleRate !== 16000) { say(text.no_rate); return; }
    await ctx.audioWorklet.addModule(root.dataset.worklet);
    node = new AudioWorkletNode(ctx, "pcm-chunker", {processorOptions: {chunk: Math.round(ctx.sampleRate / 50)}});
    if (useFile) {
      source = ctx.createBufferSource();
      source.buffer = await ctx.decodeAudioData(await file.arrayBuffer());
    } else {
      const stream = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1, echoCancellation: true}});
      source = ctx.createMediaStreamSource(stream);
    }
    const mute = ctx.createGain();
    mute.gain.value = 0;
    source.connect(node);
    node.connect(mute).connect(ctx.destination);
    node.port.onmessage = function (e) { if (sendVoice && ws.readyState === 1) ws.send(e.data); };

    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.ws);
    ws.binaryType = "arraybuffer";
    ws.onopen = function () { ws.send(JSON.stringify({type: "start", sample_rate: ctx.sampleRate})); };
    ws.onmessage = function (e) {
      if (typeof e.data !== "string") { onMedia(e.data); return; }
      const msg = JSON.parse(e.data);
      if (msg.type === "ready") {
        live.ready = msg;
        openMedia(msg);
        sendVoice = true;
        voiceChoice.hidden = true;
        if (useFile) source.start();
        stopBtn.disabled = false;
        say(text.live);
        root.dataset.status = "live";
      } else if (msg.type === "stopping") {
        // The stream stops now; `ended` follows once the recording is signed (or discarded).
        sendVoice = false;
        stopBtn.disabled = true;
        if (NORMAL_ENDS.indexOf(msg.reason) >= 0) {
          say(text.signing);
        } else {
          say("");
          ended.textContent = (text[msg.reason] || msg.reason) + (msg.message ? " " + msg.message : "");
          ended.hidden = false;
          root.dataset.status = "stopping";
        }
      } else if (msg.type === "ended") {
        finish(msg);
      } else if (msg.type === "status") {
        live.status = msg;
      }
    };
    ws.onclose = function () { if (!live.ended) finish({reason: "disconnected", status: "ended"}); };
  }

  startBtn.addEventListener("click", function () { start().catch(function (e) { say(String(e)); }); });
  stopBtn.addEventListener("click", function () {
    stopBtn.disabled = true;
    say(text.signing);
    sendVoice = false;
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({type: "stop"}));
  });
})();
