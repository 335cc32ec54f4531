/* The patient's side of the video call: answers the clinician's offer, shows the call, chat,
 * mute / camera / hang-up.
 *
 * Plain JavaScript, no build step, no external resources (the page's CSP is script-src 'self').
 * waiting-room.js owns the socket and switches to the #call section on the first offer; this
 * module plugs into it through window.clinicDesk (onSignal, sendSignal, localStream, audioOnly,
 * showEnded). The desktop (aiortc) is always the caller:
 *   offer   {type, sdp, generation[, restart, ice_servers, ice_transport_policy]}
 *                                                            candidates inside the SDP
 *   answer  {type, sdp, generation}                           sent by us, candidates inside
 *   candidate {candidate, sdpMid, sdpMLineIndex}              only those found after the answer
 *   hangup  {reason}
 * aiortc cannot restart ICE on a live connection: a "restart" is a new offer with a higher
 * generation, and we answer it with a brand-new RTCPeerConnection.
 */
(function () {
  "use strict";

  /* How long to wait for ICE gathering before answering anyway (the rest is trickled). Without
   * STUN/TURN servers gathering finishes in milliseconds; a slow TURN server must not hold up
   * the call. */
  var GATHER_TIMEOUT_MS = 1500;
  /* Once one candidate is there, the others that come at once get this long; the answer then
   * goes (a TURN path a firewall drops never finishes gathering: its wait would delay the call).
   * Relay only, the first candidate is a relay address on the clinic's TURN server, which every
   * relay path of the desktop reaches: the answer goes at once, the rest is trickled. */
  var FIRST_CANDIDATE_GRACE_MS = 100;

  var desk = window.clinicDesk;
  var pc = null;            // the current RTCPeerConnection (null outside a call)
  var generation = -1;      // the generation of the offer pc answers
  var chat = null;          // the "chat" RTCDataChannel of pc, once the desktop opened it
  var muted = false;
  var cameraOff = false;
  var ended = false;
  var ui = null;            // the controls this module adds to #call

  if (!desk) { return; }    // waiting-room.js did not load: nothing to plug into

  function $(id) { return document.getElementById(id); }

  /* ---- Signals from the clinician ------------------------------------------------------- */

  desk.onSignal = function (message) {
    var payload = message.payload || {};
    if (ended) { return; }
    if (message.kind === "offer") { answerOffer(payload); }
    else if (message.kind === "candidate") { addCandidate(payload); }
    else if (message.kind === "hangup") {
      // The clinician could not reach the relay: no call; the next offer is answered as usual.
      if (desk.callNotMade && desk.callNotMade(payload.reason)) { closePeerConnection(); return; }
      // waiting-room.js shows "Your consultation has ended" right after this hook returns.
      closeCall();
    }
  };

  function answerOffer(offer) {
    var offered = typeof offer.generation === "number" ? offer.generation : generation + 1;
    if (pc && offered <= generation) { return; }  // a late copy of an offer already answered
    generation = offered;
    buildControls();
    replacePeerConnection(offer.ice_servers, offer.ice_transport_policy);
    var current = pc;
    // A restart means the desktop lost the connection (even if ours still looks alive).
    if (offer.restart) { setCallState("reconnecting", "Reconnecting…"); }
    else { setCallState("connecting", "Connecting to your clinician…"); }
    addLocalTracks(current);
    current.setRemoteDescription({ type: "offer", sdp: offer.sdp })
      .then(function () { return current.createAnswer(); })
      .then(function (answer) { return current.setLocalDescription(answer); })
      .then(function () { return gathered(current, offer.ice_transport_policy === "relay"); })
      .then(function () {
        if (current !== pc) { return; }  // a newer offer replaced this connection meanwhile
        current.answerSent = true;
        desk.sendSignal("answer", {
          type: "answer", sdp: current.localDescription.sdp, generation: offered
        });
      })
      .catch(function (error) {
        if (current !== pc) { return; }
        if (window.console) { window.console.error("call: could not answer", error); }
        setCallState("problem", "The call could not be set up. Your clinician will try again.");
      });
  }

  function addCandidate(payload) {
    // aiortc puts its candidates in the SDP; accept trickled ones anyway (a future desktop).
    if (!pc || !payload.candidate) { return; }
    pc.addIceCandidate(payload).catch(function () { /* stale: belongs to an older offer */ });
  }

  /* ---- The peer connection -------------------------------------------------------------- */

  function replacePeerConnection(iceServers, transportPolicy) {
    closePeerConnection();
    // No default STUN server: only what the clinic's server hands out (a hospital network may
    // forbid public ones, and none is needed on the same network). The TURN credentials are
    // this call's own (minted by the server); "relay" keeps media off any direct path.
    var connection = new RTCPeerConnection({
      iceServers: Array.isArray(iceServers) ? iceServers : [],
      iceTransportPolicy: transportPolicy === "relay" ? "relay" : "all"
    });
    pc = connection;
    connection.relayErrors = [];
    connection.onicecandidateerror = function (event) {
      // A TURN server that refused us (401: credentials) or could not be reached: for support.
      connection.relayErrors.push({ url: event.url, code: event.errorCode, text: event.errorText });
    };
    connection.remoteVideo = new MediaStream();
    connection.remoteAudio = new MediaStream();
    connection.ontrack = function (event) { if (connection === pc) { showRemoteTrack(connection, event.track); } };
    connection.ondatachannel = function (event) {
      if (connection === pc && event.channel.label === "chat") { useChat(event.channel); }
    };
    connection.onicecandidate = function (event) {
      // Candidates found after the answer went out (gathering timed out) follow it one by one.
      if (connection === pc && connection.answerSent && event.candidate) {
        desk.sendSignal("candidate", event.candidate.toJSON());
      }
    };
    connection.oniceconnectionstatechange = function () { if (connection === pc) { iceChanged(connection); } };
    return connection;
  }

  function closePeerConnection() {
    var old = pc;
    pc = null;
    chat = null;
    setChatOpen(false);
    if (old) {
      old.ontrack = old.ondatachannel = old.onicecandidate = old.oniceconnectionstatechange = null;
      old.onicecandidateerror = null;
      try { old.close(); } catch (e) { /* already closed */ }
    }
  }

  /* Resolves once ICE gathering completed, FIRST_CANDIDATE_GRACE_MS after the first candidate
   * (at once when relay only), or after GATHER_TIMEOUT_MS (then we trickle the rest). */
  function gathered(connection, relayOnly) {
    return new Promise(function (resolve) {
      if (connection.iceGatheringState === "complete") { resolve(); return; }
      var timer = window.setTimeout(done, GATHER_TIMEOUT_MS);
      var grace = null;
      function done() {
        window.clearTimeout(timer);
        window.clearTimeout(grace);
        connection.removeEventListener("icegatheringstatechange", changed);
        connection.removeEventListener("icecandidate", found);
        resolve();
      }
      function changed() { if (connection.iceGatheringState === "complete") { done(); } }
      function found(event) {
        if (event.candidate && grace === null) {
          grace = window.setTimeout(done, relayOnly ? 0 : FIRST_CANDIDATE_GRACE_MS);
        }
      }
      connection.addEventListener("icegatheringstatechange", changed);
      connection.addEventListener("icecandidate", found);
    });
  }

  function addLocalTracks(connection) {
    var stream = desk.localStream();
    if (!stream) { return; }  // no camera or microphone: the patient still sees and hears
    var tracks = desk.audioOnly() ? stream.getAudioTracks() : stream.getTracks();
    tracks.forEach(function (track) {
      var sender = connection.addTrack(track, stream);
      if (track.kind === "audio") { track.enabled = !muted; }
      // The camera stays off across a reconnection if the patient turned it off.
      if (track.kind === "video" && cameraOff) { sender.replaceTrack(null); }
    });
    $("local-video").srcObject = desk.audioOnly() ? null : stream;
  }

  /* The clinician's name and initials stand where their video would be while none comes (no
   * camera on their computer, or their camera off): never an empty black box. */
  function initials(name) {
    var words = name.split(/\s+/).filter(function (word) {
      return word && !/^(dr|prof|mr|mrs|ms|mx|miss)\.?$/i.test(word);
    });
    var letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
    return letters.map(function (word) { return word.charAt(0).toUpperCase(); }).join("");
  }

  window.clinicDeskInitials = initials;  // for the tests

  function showRemoteCard(show) {
    var name = desk.clinician();
    $("remote-name").textContent = name;
    $("remote-initials").textContent = initials(name);
    $("remote-card").setAttribute("aria-label", name + ", camera off");
    $("remote-card").hidden = !show;
    $("remote-video").hidden = show;
  }

  function watchRemoteVideo(track) {
    // A track whose frames stop (camera turned off) is muted; frames again unmute it.
    track.onmute = function () { showRemoteCard(true); };
    track.onunmute = function () { showRemoteCard(false); };
    showRemoteCard(track.muted);
  }

  function showRemoteTrack(connection, track) {
    // Separate streams: the <video> plays no sound, the <audio> plays it once.
    var isVideo = track.kind === "video";
    if (isVideo) { connection.hasRemoteVideo = true; watchRemoteVideo(track); }
    var stream = isVideo ? connection.remoteVideo : connection.remoteAudio;
    stream.addTrack(track);
    var element = isVideo ? $("remote-video") : $("remote-audio");
    element.srcObject = stream;
    var playing = element.play();
    if (playing && playing.catch) { playing.catch(function () { /* autoplay: retried on a click */ }); }
  }

  function iceChanged(connection) {
    var state = connection.iceConnectionState;
    if (state === "connected" || state === "completed") {
      setCallState("connected", "Connected to your clinician");
      if (!connection.hasRemoteVideo && !desk.audioOnly()) { showRemoteCard(true); }
    } else if (state === "disconnected" || state === "failed") {
      // The desktop notices too and sends a new offer; we answer it with a new connection.
      setCallState("reconnecting", "Reconnecting…");
    }
  }

  /* ---- Ending ----------------------------------------------------------------------------- */

  function closeCall() {
    ended = true;
    closePeerConnection();
    $("remote-video").srcObject = null;
    $("remote-audio").srcObject = null;
    showRemoteCard(false);
  }

  function hangUp() {
    if (ended) { return; }
    desk.sendSignal("hangup", { reason: "patient hung up" });
    closeCall();
    desk.showEnded();
  }

  /* ---- Controls: mute, camera, hang up, chat ----------------------------------------------- */

  function setCallState(state, text) {
    var node = $("call-state");
    node.setAttribute("data-state", state);
    node.textContent = text;
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  /* The controls live in index.html's #call section but are built here, so the page's markup
   * stays the waiting room's and the call view is whole only when this module loaded. */
  function buildControls() {
    if (ui) { return; }
    var section = $("call");
    var bar = element("div", { "class": "call-controls", role: "group", "aria-label": "Call controls" });
    var mute = element("button", { type: "button", id: "call-mute", "data-active": "false" }, "Mute");
    var camera = element("button", { type: "button", id: "call-camera", "data-active": "false" }, "Stop camera");
    var hang = element("button", { type: "button", id: "call-hangup", "class": "danger" }, "End call");
    bar.appendChild(mute);
    bar.appendChild(camera);
    bar.appendChild(hang);
    if (desk.audioOnly() || !hasLocal("video")) { camera.hidden = true; }
    if (!hasLocal("audio")) { mute.hidden = true; }

    var who = desk.clinician();
    var panel = element("section", { "class": "call-chat", "aria-labelledby": "call-chat-title" });
    panel.appendChild(element("h2", { id: "call-chat-title" }, "Chat with " + who));
    // The live region is the scrolling wrapper; the messages stay a plain list inside it. The
    // wrapper takes focus so the keyboard alone can scroll back through the messages.
    var scroller = element("div", {
      id: "call-chat-log", "class": "call-chat-log", role: "log", tabindex: "0",
      "aria-label": "Chat messages"
    });
    var log = element("ol", { id: "call-chat-list" });
    scroller.appendChild(log);
    var form = element("form", { id: "call-chat-form", "class": "call-chat-form" });
    var label = element("label", { "for": "call-chat-input" }, "Message to " + who);
    var row = element("div", { "class": "call-chat-row" });
    var input = element("input", {
      type: "text", id: "call-chat-input", autocomplete: "off", maxlength: "2000", disabled: ""
    });
    var send = element("button", { type: "submit", id: "call-chat-send", disabled: "" }, "Send");
    form.appendChild(label);
    row.appendChild(input);
    row.appendChild(send);
    form.appendChild(row);
    panel.appendChild(scroller);
    panel.appendChild(form);

    var stage = section.querySelector(".call-stage");
    stage.parentNode.insertBefore(bar, stage.nextSibling);
    section.appendChild(panel);
    section.classList.add("call-ready");

    mute.addEventListener("click", toggleMute);
    camera.addEventListener("click", toggleCamera);
    hang.addEventListener("click", hangUp);
    form.addEventListener("submit", function (event) { event.preventDefault(); sendChat(); });
    // A click anywhere in the call retries playback an autoplay policy may have blocked.
    section.addEventListener("click", function () {
      [$("remote-video"), $("remote-audio")].forEach(function (media) {
        if (media.srcObject && media.paused) { media.play().catch(function () {}); }
      });
    });
    ui = { mute: mute, camera: camera, input: input, send: send, log: log, scroller: scroller };
  }

  function hasLocal(kind) {
    var stream = desk.localStream();
    return !!stream && (kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks()).length > 0;
  }

  /* The buttons say what they will do ("Mute" / "Unmute"), so no aria-pressed: a pressed
   * "Unmute" would read as the opposite. data-active only styles them. */
  function toggleMute() {
    muted = !muted;
    // A disabled track sends silence: the connection and the clinician's meter stay alive.
    var stream = desk.localStream();
    if (stream) { stream.getAudioTracks().forEach(function (track) { track.enabled = !muted; }); }
    ui.mute.setAttribute("data-active", String(muted));
    ui.mute.textContent = muted ? "Unmute" : "Mute";
    announce(muted ? "Your microphone is off." : "Your microphone is on.");
  }

  function toggleCamera() {
    cameraOff = !cameraOff;
    var stream = desk.localStream();
    var track = stream && stream.getVideoTracks()[0];
    if (!track) { return; }
    // A disabled track would still send black frames; taking it off the sender sends nothing.
    track.enabled = !cameraOff;
    if (pc) {
      // The receiver's track always knows the kind; the sender's is null while off.
      pc.getTransceivers().forEach(function (transceiver) {
        if (transceiver.receiver.track.kind === "video" && !transceiver.stopped) {
          transceiver.sender.replaceTrack(cameraOff ? null : track);
        }
      });
    }
    $("local-video").classList.toggle("camera-off", cameraOff);
    ui.camera.setAttribute("data-active", String(cameraOff));
    ui.camera.textContent = cameraOff ? "Start camera" : "Stop camera";
    announce(cameraOff ? "Your camera is off." : "Your camera is on.");
  }

  function announce(text) {
    var status = $("status");
    if (status) { status.textContent = text; }
  }

  function useChat(channel) {
    chat = channel;
    channel.onopen = function () { if (channel === chat) { setChatOpen(true); } };
    channel.onclose = function () { if (channel === chat) { setChatOpen(false); } };
    channel.onmessage = function (event) {
      if (channel === chat && typeof event.data === "string") { addChat("clinician", event.data); }
    };
    if (channel.readyState === "open") { setChatOpen(true); }
  }

  function setChatOpen(open) {
    if (!ui) { return; }
    ui.input.disabled = !open;
    ui.send.disabled = !open;
  }

  function sendChat() {
    var text = ui.input.value.trim();
    if (!text || !chat || chat.readyState !== "open") { return; }
    chat.send(text);
    addChat("patient", text);
    ui.input.value = "";
    ui.input.focus();
  }

  function addChat(who, text) {
    var item = element("li", { "class": "chat-" + who });
    item.appendChild(element("span", { "class": "chat-who" }, who === "patient" ? "You" : desk.clinician()));
    item.appendChild(element("span", { "class": "chat-text" }, text));
    ui.log.appendChild(item);
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  /* ---- For tests and support: a summary of the call's statistics ------------------------ */

  /* The path the media took, from the selected candidate pair: {local, remote, relayProtocol}
   * (candidate types host / srflx / prflx / relay; relayProtocol udp / tcp / tls). */
  function callPath(report) {
    var pairId = null;
    report.forEach(function (entry) {
      if (entry.type === "transport" && entry.selectedCandidatePairId && !pairId) {
        pairId = entry.selectedCandidatePairId;
      }
    });
    var pair = pairId ? report.get(pairId) : null;
    if (!pair) { return null; }
    var local = report.get(pair.localCandidateId);
    var remote = report.get(pair.remoteCandidateId);
    if (!local || !remote) { return null; }
    return {
      local: local.candidateType, remote: remote.candidateType,
      relayProtocol: local.candidateType === "relay" ? (local.relayProtocol || null) : null
    };
  }

  desk.callStats = function () {
    if (!pc) { return Promise.resolve(null); }
    return pc.getStats().then(function (report) {
      var summary = {
        ice: pc ? pc.iceConnectionState : "closed", generation: generation,
        videoFramesDecoded: 0, audioPacketsReceived: 0, audioEnergy: 0,
        localSdp: pc && pc.localDescription ? pc.localDescription.sdp : "",
        remoteSdp: pc && pc.remoteDescription ? pc.remoteDescription.sdp : "",
        path: callPath(report), relayErrors: pc ? pc.relayErrors.slice() : []
      };
      report.forEach(function (entry) {
        if (entry.type !== "inbound-rtp") { return; }
        if (entry.kind === "video") { summary.videoFramesDecoded += entry.framesDecoded || 0; }
        if (entry.kind === "audio") {
          summary.audioPacketsReceived += entry.packetsReceived || 0;
          summary.audioEnergy += entry.totalAudioEnergy || 0;
        }
      });
      return summary;
    });
  };
})();
