/* The patient's waiting room: link check, device check, waiting room, call hand-off.
 *
 * Plain JavaScript, no build step, no external resources. The link's token is the URL's
 * fragment (/join#TOKEN): the browser never sends it, this script posts it to /patient/join and
 * to the socket. The call itself is a later module: it sets window.clinicDesk.onSignal and uses
 * window.clinicDesk.sendSignal(kind, payload) and window.clinicDesk.localStream(). A group
 * appointment's participants go from the device check into the group call (group-call.js sets
 * window.clinicDesk.joinGroup); their page keeps the socket, so the clinic sees them arrive.
 */
(function () {
  "use strict";

  var CLOSE_UNKNOWN = 4404, CLOSE_EXPIRED = 4410, CLOSE_CANCELLED = 4412, CLOSE_LIMITED = 4429;
  var token = decodeURIComponent((window.location.hash || "").slice(1));
  var details = null;
  var stream = null;
  var audioOnly = false;
  var socket = null;
  var reconnectDelay = 1000;
  var finished = false;
  var waitedBase = 0;
  var waitedAt = 0;
  var waitedTimer = null;
  var meterFrame = 0;
  var audioContext = null;
  var earlyTimer = null;
  /* The devices the patient picked (deviceIds; "" is the browser's default), kept per tab. */
  var chosen = { camera: "", microphone: "", speaker: "" };
  var format = window.clinicDeskFormat;

  function $(id) { return document.getElementById(id); }

  function announce(text) {
    var status = $("status");
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function show(step) {
    var steps = document.querySelectorAll("[data-step]");
    for (var i = 0; i < steps.length; i++) { steps[i].hidden = steps[i].id !== step; }
    document.body.setAttribute("data-showing", step);
    var title = document.querySelector("#" + step + " h1");
    if (title) {
      document.title = title.textContent + " – " + (details ? details.hospital : "Virtual clinic");
      title.focus();
    }
  }

  function fill(name, text) {
    var nodes = document.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = text; }
  }

  function finish(step, text) {
    finished = true;
    remember(null);
    stopWaitedClock();
    if (earlyTimer) { window.clearTimeout(earlyTimer); earlyTimer = null; }
    if (socket) { try { socket.close(1000, "done"); } catch (e) { /* already closed */ } }
    if (window.clinicDesk.leaveGroup) { window.clinicDesk.leaveGroup(); }
    stopDevices();
    // The heading says the server's first sentence already: show what follows it.
    var rest = text ? text.replace(/^[^.]*\.\s*/, "") : "";
    if (rest && $(step + "-text")) { $(step + "-text").textContent = rest; }
    show(step);
  }

  function problem(text) {
    $("problem-text").textContent = text;
    show("problem");
  }

  /* ---- 1. The link ---------------------------------------------------------------------- */

  function openLink() {
    if (!token) { show("unknown"); return; }
    fetch("/patient/join", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: token }),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (answer.status === 200) { welcome(answer.body); return; }
      var code = answer.body && answer.body.code;
      if (code === "appointment_cancelled") { finish("cancelled", answer.body.message); }
      else if (code === "link_expired") { finish("expired", answer.body.message); }
      else if (answer.status === 404) { finish("unknown"); }
      else if (answer.status === 429) { problem(answer.body.message); }
      else { problem("The clinic's server could not open your appointment. Please try again in a minute."); }
    }).catch(function () {
      problem("We could not reach the clinic. Please check your internet connection, then try again.");
    });
  }

  function welcome(body) {
    details = body;
    format.setZone(body.time_zone);
    fill("name", body.name);
    fill("when", format.span(body.start, body.end, body.when));
    fill("clinician", body.clinician);
    fill("hospital", body.hospital);
    fill("address", body.address);
    fill("kind-text", body.kind === "group" ? "group video appointment" : "video appointment");
    fill("phone-sentence", body.clinic_phone ? " on " + body.clinic_phone : "");
    $("hospital-name").textContent = body.hospital;
    $("long-wait-phone").textContent = body.clinic_phone ? " on " + body.clinic_phone : "";
    var mark = remembered();
    restoreChoices();
    if (mark) {
      // A reload of a tab that was in the waiting room goes straight back there.
      audioOnly = mark === "audio";
      var opened = quietlyOpenDevices();
      // A group call publishes the devices as it joins: it waits for them; a 1:1 call later.
      if (isGroup()) { opened.then(enterWaitingRoom); } else { enterWaitingRoom(); }
      return;
    }
    show("welcome");
  }

  /* This tab's waiting-room visit, kept across a reload (never the token itself). */
  function marker() { return "clinicdesk.waiting." + token.slice(-10); }

  function remembered() {
    try { return window.sessionStorage.getItem(marker()); } catch (e) { return null; }
  }

  function remember(value) {
    try {
      if (value) { window.sessionStorage.setItem(marker(), value); }
      else {
        window.sessionStorage.removeItem(marker());
        window.sessionStorage.removeItem(marker() + ".devices");
      }
    } catch (e) { /* private mode: a reload shows the device check again */ }
  }

  function rememberChoices() {
    try { window.sessionStorage.setItem(marker() + ".devices", JSON.stringify(chosen)); }
    catch (e) { /* private mode: the defaults after a reload */ }
  }

  function restoreChoices() {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(marker() + ".devices") || "null");
      if (kept && typeof kept === "object") {
        ["camera", "microphone", "speaker"].forEach(function (key) {
          if (typeof kept[key] === "string") { chosen[key] = kept[key]; }
        });
      }
    } catch (e) { /* nothing kept */ }
  }

  /* What getUserMedia is asked for: the picked devices, else the browser's defaults. */
  function wanted(video) {
    var audio = chosen.microphone ? { deviceId: { exact: chosen.microphone } } : true;
    if (!video) { return { audio: audio, video: false }; }
    var camera = { width: { ideal: 1280 }, height: { ideal: 720 } };
    if (chosen.camera) { camera.deviceId = { exact: chosen.camera }; }
    return { audio: audio, video: camera };
  }

  /* Resolves once the devices are open, or could not be (the call goes ahead without them). */
  function quietlyOpenDevices() {
    if (!mediaSupported()) { return Promise.resolve(); }
    return navigator.mediaDevices.getUserMedia(wanted(!audioOnly)).then(function (media) { stream = media; })
      .catch(function () {
        if (!chosen.camera && !chosen.microphone) { return undefined; }
        // A picked device went away while the tab reloaded: the browser's defaults then.
        chosen.camera = chosen.microphone = "";
        rememberChoices();
        return quietlyOpenDevices();
      });
  }

  /* ---- 2. The device check -------------------------------------------------------------- */

  function mediaSupported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function stopDevices() {
    if (meterFrame) { window.cancelAnimationFrame(meterFrame); meterFrame = 0; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function checkDevices() {
    // Again after a new pick: focus stays on the choice the patient is using.
    if (document.body.getAttribute("data-showing") !== "device-check") { show("device-check"); }
    $("device-help").hidden = true;
    $("retry-devices").hidden = true;
    $("audio-only").hidden = true;
    $("enter-waiting").hidden = false;
    setState("camera-state", "pending", "Camera: checking…");
    setState("mic-label", "pending", "Microphone: say something — the bar should move");
    if (!mediaSupported()) {
      help("This browser cannot use a camera here",
        "Your browser does not allow camera or microphone use on this page.",
        ["Open the link in a current version of Chrome, Edge, Firefox or Safari.",
         "On a phone, open it in the phone's own browser rather than inside another app."]);
      $("audio-only").hidden = true;
      $("enter-waiting").textContent = enterLabel(" without camera and microphone");
      return;
    }
    stopDevices();
    navigator.mediaDevices.getUserMedia(wanted(!audioOnly)).then(function (media) {
      useStream(media);
    }).catch(function (error) {
      if ((chosen.camera || chosen.microphone) && error && error.name === "OverconstrainedError") {
        // A picked device was unplugged since: back to the browser's defaults.
        chosen.camera = chosen.microphone = "";
        rememberChoices();
        checkDevices();
        return;
      }
      if (audioOnly) { deviceProblem(error, "microphone"); return; }
      // The camera may be the only problem: try the microphone alone.
      navigator.mediaDevices.getUserMedia(wanted(false)).then(function (media) {
        useStream(media);
        deviceProblem(error, "camera");
      }).catch(function () { deviceProblem(error, "both"); });
    });
  }

  function useStream(media) {
    stream = media;
    var hasVideo = media.getVideoTracks().length > 0;
    $("selfview").srcObject = hasVideo ? media : null;
    $("no-video").hidden = hasVideo;
    if (hasVideo) { setState("camera-state", "ok", "Camera: working"); }
    else { setState("camera-state", audioOnly ? "pending" : "bad", audioOnly ? "Camera: not used (audio only)" : "Camera: not available"); }
    startMeter(media);
    listDevices();
    $("enter-waiting").textContent = enterLabel(audioOnly ? " (audio only)" : "");
  }

  /* ---- The choice of camera, microphone and speakers --------------------------------------- */

  function canChooseSpeaker() {
    return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
  }

  /* The deviceId a live track of `kind` uses ("" when there is none). */
  function inUse(kind) {
    var tracks = !stream ? [] : kind === "video" ? stream.getVideoTracks() : stream.getAudioTracks();
    var settings = tracks.length && tracks[0].getSettings ? tracks[0].getSettings() : {};
    return settings.deviceId || "";
  }

  /* Device names are only known once the page may use the devices: list them after getUserMedia. */
  function listDevices() {
    if (!navigator.mediaDevices.enumerateDevices) { return; }
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      fillChoice("camera-choice", devices, "videoinput", "Camera", audioOnly ? "" : inUse("video"));
      fillChoice("mic-choice", devices, "audioinput", "Microphone", inUse("audio"));
      if (canChooseSpeaker()) {
        fillChoice("speaker-choice", devices, "audiooutput", "Speakers", chosen.speaker || "default");
      } else {
        $("speaker-choice-box").hidden = true;
      }
    }).catch(function () { /* the defaults stay in use */ });
  }

  function fillChoice(id, devices, kind, noun, current) {
    var select = $(id);
    var found = devices.filter(function (device) { return device.kind === kind && device.deviceId; });
    select.textContent = "";
    found.forEach(function (device, index) {
      var option = document.createElement("option");
      option.value = device.deviceId;
      option.textContent = device.label || noun + " " + (index + 1);
      option.selected = device.deviceId === current;
      select.appendChild(option);
    });
    // One device is no choice; a camera is no choice in an audio-only call.
    $(id + "-box").hidden = found.length < 2 || (kind === "videoinput" && audioOnly);
  }

  function choose(key, id) {
    chosen[key] = $(id).value;
    rememberChoices();
    if (key === "speaker") {
      useSpeaker($("test-sound"));
      announce("Sound now plays on " + $(id).selectedOptions[0].textContent + ".");
      return;
    }
    checkDevices();
  }

  /* Plays `media` (an <audio> or <video>) on the picked speakers, where the browser can. */
  function useSpeaker(media) {
    if (!chosen.speaker || !media || !media.setSinkId) { return Promise.resolve(); }
    return media.setSinkId(chosen.speaker).catch(function () { /* gone: the default plays */ });
  }

  function deviceProblem(error, what) {
    var name = (error && error.name) || "";
    var denied = name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError";
    var missing = name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError";
    var busy = name === "NotReadableError" || name === "TrackStartError" || name === "AbortError";
    var device = what === "camera" ? "camera" : what === "microphone" ? "microphone" : "camera and microphone";
    var either = what === "both" ? "camera or microphone" : device;
    if (what !== "camera") { setState("camera-state", "bad", "Camera: not available"); $("no-video").hidden = false; }
    else { setState("camera-state", "bad", "Camera: not available"); $("no-video").hidden = false; }
    if (denied) {
      help("Please allow your " + device,
        "Your browser was told not to let this page use your " + device + ".",
        ["Look for a camera or lock symbol in the address bar, choose Allow, then press Try again.",
         "On an iPhone or iPad: Settings, then Safari, then Camera and Microphone: choose Allow.",
         "On Android: tap the lock symbol next to the address, then Permissions."]);
    } else if (missing) {
      help("No " + either + " found",
        "We could not find a " + either + " on this device.",
        ["Plug in a headset or webcam, then press Try again.",
         "Or use a phone or tablet, which has both built in."]);
    } else if (busy) {
      help("Your " + device + " is busy",
        "Another program may be using your " + device + ".",
        ["Close other video-call programs or browser tabs, then press Try again."]);
    } else {
      help("We cannot use your " + device,
        "Something stopped the browser from using your " + device + ".",
        ["Press Try again.", "If it still does not work, try another browser or device."]);
    }
    $("retry-devices").hidden = false;
    // With the microphone working the call can go ahead as audio only: that is the way on.
    var canTalk = what === "camera" && stream && stream.getAudioTracks().length > 0;
    $("audio-only").hidden = !canTalk;
    $("enter-waiting").hidden = !!canTalk;
    if (what !== "camera") {
      $("enter-waiting").textContent = enterLabel(" anyway");
    }
  }

  function help(title, text, steps) {
    $("help-title").textContent = title;
    $("help-text").textContent = text;
    var list = $("help-steps");
    list.textContent = "";
    steps.forEach(function (step) {
      var item = document.createElement("li");
      item.textContent = step;
      list.appendChild(item);
    });
    $("device-help").hidden = false;
  }

  function setState(id, state, text) {
    var node = $(id);
    node.setAttribute("data-state", state);
    node.textContent = text;
  }

  function context() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (!audioContext) { audioContext = new Context(); }
    if (audioContext.state === "suspended") { audioContext.resume(); }
    return audioContext;
  }

  function startMeter(media) {
    if (!media.getAudioTracks().length) { return; }
    var ctx = context();
    if (!ctx) { return; }
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(media).connect(analyser);
    var samples = new Float32Array(analyser.fftSize);
    var meter = $("mic-level");
    var heard = false;
    function tick() {
      analyser.getFloatTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) { sum += samples[i] * samples[i]; }
      var level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      meter.value = level;
      if (!heard && level > 0.05) {
        heard = true;
        setState("mic-label", "ok", "Microphone: working — the bar moves when you speak");
      }
      meterFrame = window.requestAnimationFrame(tick);
    }
    tick();
  }

  function playTestSound() {
    var ctx = context();
    if (!ctx) { return; }
    var tone = ctx.createOscillator();
    var gain = ctx.createGain();
    // Through an <audio> element, which can play on the speakers the patient picked.
    var out = $("test-sound");
    var sink = ctx.createMediaStreamDestination ? ctx.createMediaStreamDestination() : null;
    tone.frequency.value = 660;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.25, ctx.currentTime + 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 1.2);
    if (sink && out.setSinkId) {
      tone.connect(gain).connect(sink);
      out.srcObject = sink.stream;
      useSpeaker(out).then(function () { return out.play(); }).catch(function () { /* autoplay */ });
    } else {
      tone.connect(gain).connect(ctx.destination);
    }
    tone.start();
    tone.stop(ctx.currentTime + 1.25);
    $("speaker-state").textContent = "Playing a test sound: you should hear a short tone. If not, turn up the volume or pick other speakers.";
  }

  /* ---- 3. The waiting room ---------------------------------------------------------------- */

  function isGroup() {
    return !!(details && details.kind === "group" && window.clinicDesk.joinGroup);
  }

  /* What the device check's way on says: a group's participants go straight into the call. */
  function enterLabel(rest) {
    return (isGroup() ? "Join the group call" : "Join the waiting room") + rest;
  }

  function enterWaitingRoom() {
    if (meterFrame) { window.cancelAnimationFrame(meterFrame); meterFrame = 0; }
    remember(audioOnly ? "audio" : "video");
    if (isGroup()) {
      show("group-call");
      connect();
      window.clinicDesk.joinGroup();
      return;
    }
    show("waiting");
    connect();
  }

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/patient/socket";
  }

  function setConnection(state, text) {
    setState("connection", state, text);
  }

  /* Before the clinic's waiting window (start − 5 minutes) the patient is early: say when the
   * call will come, and change the words by themselves when the window opens (server time). */
  function setEarly(seconds, serverNow) {
    if (earlyTimer) { window.clearTimeout(earlyTimer); earlyTimer = null; }
    var early = seconds > 0;
    var when = format.moment(details.start, serverNow);
    $("early").hidden = !early;
    $("early-when").textContent = when;
    $("waiting-title").textContent = early ? "You are early" : "Your clinician will be with you shortly";
    if (early) {
      setConnection("online", "Connected — the clinic will call you " + when);
      var opens = Date.now() + seconds * 1000;
      var wait = function () {
        var left = opens - Date.now();
        // Timers overflow past ~24 days: wake at most daily and look again.
        if (left > 0) { earlyTimer = window.setTimeout(wait, Math.min(left, 86400000)); return; }
        earlyTimer = null;
        // Offline meanwhile: the next hello says where things stand.
        if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
        setEarly(0);
        announce("It is nearly time: the clinic can now see you are here.");
      };
      wait();
    } else {
      setConnection("online", "Connected — the clinic can see you are here");
    }
  }

  function connect() {
    if (finished) { return; }
    setConnection("connecting", "Connecting…");
    var ws = new WebSocket(socketUrl());
    socket = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ type: "auth", token: token })); };
    ws.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      receive(message);
    };
    ws.onclose = function (event) {
      if (socket !== ws || finished) { return; }
      socket = null;
      if (event.code === CLOSE_UNKNOWN) { finish("unknown"); return; }
      if (event.code === CLOSE_EXPIRED) { finish("expired"); return; }
      if (event.code === CLOSE_CANCELLED) { finish("cancelled"); return; }
      if (event.code === CLOSE_LIMITED) { problem("Too many attempts. Please wait a few minutes and try again."); return; }
      setConnection("offline", "Connection lost — reconnecting…");
      window.setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 10000);
    };
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function receive(message) {
    switch (message.type) {
      case "hello":
        reconnectDelay = 1000;
        setEarly(message.early_seconds || 0, message.now);
        startWaitedClock(message.waited_seconds);
        // In the group call (or waiting to be let in: a reconnection may have missed the word).
        if (isGroup()) { if (window.clinicDesk.admissionChanged) { window.clinicDesk.admissionChanged(); } break; }
        announce(message.early_seconds > 0
          ? "You are in the waiting room. The clinic will call you " + format.moment(details.start, message.now) + "."
          : "You are in the waiting room.");
        break;
      case "ping":
        send({ type: "pong" });
        break;
      case "message":
        addMessage(message.text, message.at);
        break;
      case "signal":
        signal(message);
        break;
      case "admission":
        // The clinician let someone into the group call: if it was us, we join now.
        if (isGroup() && window.clinicDesk.admissionChanged) { window.clinicDesk.admissionChanged(); }
        break;
      case "cancelled":
        finish("cancelled", message.message);
        break;
      default:
        break;
    }
  }

  function startWaitedClock(seconds) {
    waitedBase = seconds || 0;
    waitedAt = Date.now();
    stopWaitedClock();
    updateWaited();
    waitedTimer = window.setInterval(updateWaited, 5000);
  }

  function stopWaitedClock() {
    if (waitedTimer) { window.clearInterval(waitedTimer); waitedTimer = null; }
  }

  function updateWaited() {
    var minutes = Math.floor((waitedBase + (Date.now() - waitedAt) / 1000) / 60);
    $("waited").textContent = minutes < 1 ? "less than a minute" : minutes === 1 ? "1 minute" : minutes + " minutes";
    if (details && minutes >= details.waiting_threshold_minutes) { $("long-wait").hidden = false; }
  }

  function addMessage(text, at) {
    var empty = $("no-messages");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    var when = document.createElement("time");
    when.dateTime = at;
    when.textContent = format.time(at);
    var words = document.createElement("span");
    words.textContent = text;
    item.appendChild(when);
    item.appendChild(words);
    $("messages").appendChild(item);
  }

  /* ---- 4. The call (completed by the calls issue) --------------------------------------- */

  function signal(message) {
    if (message.kind === "offer" && document.body.getAttribute("data-showing") !== "call") {
      $("call-not-made").hidden = true;
      stopWaitedClock();
      if (earlyTimer) { window.clearTimeout(earlyTimer); earlyTimer = null; }
      if (stream) { $("local-video").srcObject = stream; }
      useSpeaker($("remote-audio"));
      show("call");
    }
    // A call under way (not one being set up) that the relay then refused was interrupted.
    var callState = $("call-state").getAttribute("data-state");
    var underWay = document.body.getAttribute("data-showing") === "call" &&
      (callState === "connected" || callState === "reconnecting");
    var hook = window.clinicDesk.onSignal;
    if (typeof hook === "function") {
      try { hook(message); } catch (e) { if (window.console) { window.console.error(e); } }
    }
    if (message.kind === "hangup") {
      var reason = (message.payload || {}).reason;
      if (RELAY_FAILURES.hasOwnProperty(reason)) { callNotMade(reason, underWay); }
      else { finish("ended"); }
    }
  }

  /* The clinician's computer could not reach the clinic's relay (the server that carries calls
   * through hospital firewalls): no call was made, so the patient keeps waiting. */
  var RELAY_FAILURES = {
    relay_refused: "Your clinician could not start the video call just now (the clinic's call " +
      "service refused it). Please keep this page open: your clinician will try again or phone you.",
    relay_unreachable: "Your clinician could not start the video call just now (the clinic's " +
      "call service could not be reached). Please keep this page open: your clinician will try " +
      "again or phone you."
  };

  /* The same failure while reconnecting a call that had started. */
  var RELAY_INTERRUPTIONS = {
    relay_refused: "The connection to your clinician was lost and the clinic's call service " +
      "refused to carry the call again. Please keep this page open: your clinician will call " +
      "again or phone you.",
    relay_unreachable: "The connection to your clinician was lost and the clinic's call " +
      "service could not be reached again. Please keep this page open: your clinician will " +
      "call again or phone you."
  };

  function callNotMade(reason, interrupted) {
    var notice = $("call-not-made");
    notice.querySelector("h2").textContent = interrupted ? "Your call was interrupted"
      : "The call did not start";
    notice.querySelector("p").textContent = (interrupted ? RELAY_INTERRUPTIONS : RELAY_FAILURES)[reason];
    notice.hidden = false;
    if (document.body.getAttribute("data-showing") !== "waiting") {
      show("waiting");
      startWaitedClock(waitedBase + (Date.now() - waitedAt) / 1000);
    }
  }

  window.clinicDesk = {
    /* Set by the call module: receives every relayed {type: "signal", kind, payload, ...}. */
    onSignal: null,
    /* Sends "answer", "candidate" or "hangup" (with its payload) to the clinician. */
    sendSignal: function (kind, payload) {
      return send({ type: "signal", kind: kind, payload: payload || {} });
    },
    localStream: function () { return stream; },
    /* The clinician's name as the page shows it ("Dr Ng"). */
    clinician: function () { return (details && details.clinician) || "Your clinician"; },
    audioOnly: function () { return audioOnly; },
    showEnded: function () { finish("ended"); },
    /* The link's token, for the group call's credential (POST /patient/group-call). */
    token: function () { return token; },
    /* True for a hangup that means "no call was made" (the patient keeps waiting). */
    callNotMade: function (reason) { return RELAY_FAILURES.hasOwnProperty(reason); }
  };

  /* ---- Start ------------------------------------------------------------------------------ */

  document.addEventListener("DOMContentLoaded", function () {
    $("start-check").addEventListener("click", function () { context(); checkDevices(); });
    $("retry-devices").addEventListener("click", checkDevices);
    $("audio-only").addEventListener("click", function () { audioOnly = true; checkDevices(); });
    $("play-sound").addEventListener("click", playTestSound);
    $("camera-choice").addEventListener("change", function () { choose("camera", "camera-choice"); });
    $("mic-choice").addEventListener("change", function () { choose("microphone", "mic-choice"); });
    $("speaker-choice").addEventListener("change", function () { choose("speaker", "speaker-choice"); });
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener("devicechange", function () {
        if (document.body.getAttribute("data-showing") === "device-check" && stream) { listDevices(); }
      });
    }
    $("enter-waiting").addEventListener("click", enterWaitingRoom);
    $("reload").addEventListener("click", function () { window.location.reload(); });
    window.addEventListener("hashchange", function () { window.location.reload(); });
    openLink();
  });
})();
