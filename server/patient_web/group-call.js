/* A participant's side of a group call: Janus's WebSocket API spoken directly (no library).
 *
 * Plain JavaScript, no build step (the page's CSP is script-src 'self'). waiting-room.js calls
 * window.clinicDesk.joinGroup() once the participant passed the device check of a group
 * appointment; this module asks the server for this link's credential (POST /patient/group-call),
 * opens a Janus session with its Janus token and joins the appointment's rooms with its join
 * token:
 *   AudioBridge  the microphone goes in, one mix of everyone else comes back (one <audio>);
 *   VideoRoom    the camera is published (video only); each other publisher is a tile
 *                (one subscriber handle each, up to MAX_TILES; the rest are listed by name).
 *   TextRoom     the chat to everyone, over a data channel (the same join token).
 * Until the clinician admits the participant the server answers 202: the page says they wait,
 * and asks again when the server's socket says someone was admitted (waiting-room.js calls
 * window.clinicDesk.admissionChanged()), so it joins by itself without a reload.
 * Janus answers a plugin request with "ack" and then an "event" carrying the same transaction;
 * events without a transaction (someone joined, talking, left) go to the handle's listener.
 * A feed whose id ends in ":screen" is someone's screen share: one large tile, not a person.
 * The camera is published in three simulcast layers; a tile asks Janus for the layer its size
 * needs, and drops a layer (in the end to no video) while its network loses packets.
 * Losing Janus (it restarted) says "reconnecting", asks the server again (the rooms come back)
 * and joins again by itself.
 */
(function () {
  "use strict";

  var MAX_TILES = 9;
  var KEEPALIVE_MS = 25000;
  var REQUEST_MS = 10000;
  /* Candidates found in this time go inside the offer; any later ones are trickled. */
  var GATHER_TIMEOUT_MS = 1500;
  var SCREEN_SUFFIX = ":screen";
  /* Getting back in after Janus went away: pauses between tries, and for how long at most. */
  var RETRY_MS = [200, 500, 1000, 2000, 3000];
  var RECONNECT_MS = 120000;
  /* The server's answers that no retry changes. */
  var FINAL = ["removed", "call_ended", "call_over", "link_expired", "call_closed", "room_locked", "not_group"];
  /* Simulcast: the camera in three layers (full, half, quarter size), within the room's cap. */
  var LAYERS = [
    { rid: "h", maxBitrate: 150000 },
    { rid: "m", maxBitrate: 70000, scaleResolutionDownBy: 2 },
    { rid: "l", maxBitrate: 30000, scaleResolutionDownBy: 4 }
  ];
  /* Each tile's network is checked this often; above LOSSY of its packets lost it drops a
     layer, below it for STEADY checks in a row it climbs back towards what its size needs. */
  var QUALITY_MS = 3000;
  var LOSSY = 0.05;
  var STEADY = 4;

  var desk = window.clinicDesk;
  if (!desk) { return; }

  var janus = null;        // {socket, session, pending, handlers, timer}
  var join = null;         // the server's GroupJoin answer
  var mixer = null;        // {handle, pc}: AudioBridge
  var publisher = null;    // {handle, pc}: VideoRoom publisher (null: nobody sees us)
  var tiles = {};          // feed id -> {handle, pc, figure, video}
  var people = {};         // id -> {id, display, muted, talking, video}
  var muted = false;
  var cameraOff = false;
  var left = false;
  var speaker = null;      // who talked last (their tile comes first)
  var screens = {};        // screen share feed id -> its name ("Dr Ng (screen)")
  var reconnecting = false;
  var qualityTimer = null;
  var waiting = false;     // asked to join; the clinician has not let us in yet
  var asking = false;      // a credential request is on its way
  var chat = null;         // {handle, pc, channel, pending}: TextRoom
  var names = {};          // TextRoom username (participant id) -> display name

  function $(id) { return document.getElementById(id); }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function setState(state, text) {
    var node = $("group-state");
    node.setAttribute("data-state", state);
    node.textContent = text;
  }

  function announce(text) {
    var status = $("status");
    if (status) { status.textContent = text; }
  }

  /* ---- Janus's WebSocket API ------------------------------------------------------------ */

  function transaction() {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function refusal(message) {
    if (message.janus === "error") {
      return (message.error && message.error.reason) || "refused";
    }
    var data = message.plugindata && message.plugindata.data;
    if (data && data.error_code !== undefined) { return data.error || "refused"; }
    return null;
  }

  function openJanus(url, token) {
    return new Promise(function (resolve, reject) {
      var socket;
      try { socket = new WebSocket(url, "janus-protocol"); }
      catch (e) { reject(new Error("unreachable")); return; }
      var mine = janus = { socket: socket, session: 0, token: token, pending: {}, handlers: {}, timer: null };
      socket.onopen = function () {
        request({ janus: "create" }).then(function (answer) {
          janus.session = answer.data.id;
          janus.timer = window.setInterval(function () {
            request({ janus: "keepalive" }, true).catch(function () { /* the close says it */ });
          }, KEEPALIVE_MS);
          resolve();
        }, reject);
      };
      socket.onerror = function () { reject(new Error("unreachable")); };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        dispatch(message);
      };
      socket.onclose = function () {
        Object.keys(mine.pending).forEach(function (key) { mine.pending[key].reject(new Error("gone")); });
        mine.pending = {};
        if (mine.timer) { window.clearInterval(mine.timer); }
        reject(new Error("unreachable"));
        if (janus === mine && !left && !reconnecting && join) { lost(); }
      };
    });
  }

  function send(body, id) {
    var message = Object.assign({}, body, { token: janus.token });
    if (id) { message.transaction = id; }
    if (janus.session && body.janus !== "create") { message.session_id = janus.session; }
    janus.socket.send(JSON.stringify(message));
  }

  /* A request and its answer (`ackEnough`: the "ack" is the whole answer); refusals reject. */
  function request(body, ackEnough) {
    return new Promise(function (resolve, reject) {
      if (!janus || janus.socket.readyState !== WebSocket.OPEN) { reject(new Error("gone")); return; }
      var id = transaction();
      var timer = window.setTimeout(function () {
        delete janus.pending[id];
        reject(new Error("timeout"));
      }, REQUEST_MS);
      janus.pending[id] = {
        ackEnough: !!ackEnough,
        resolve: function (message) { window.clearTimeout(timer); resolve(message); },
        reject: function (error) { window.clearTimeout(timer); reject(error); }
      };
      send(body, id);
    });
  }

  function dispatch(message) {
    var waiting = janus.pending[message.transaction];
    if (waiting && (message.janus !== "ack" || waiting.ackEnough)) {
      delete janus.pending[message.transaction];
      var refused = refusal(message);
      if (refused) { waiting.reject(new Error(refused)); } else { waiting.resolve(message); }
      return;
    }
    if (message.janus === "ack") { return; }  // the event with the same transaction follows
    var handler = janus.handlers[message.sender];
    if (handler) { handler(message); }
  }

  function attach(plugin, onEvent) {
    return request({ janus: "attach", plugin: plugin }).then(function (answer) {
      janus.handlers[answer.data.id] = onEvent;
      return answer.data.id;
    });
  }

  function message(handle, body, jsep) {
    var request_ = { janus: "message", handle_id: handle, body: body };
    if (jsep) { request_.jsep = jsep; }
    return request(request_);
  }

  function data(answer) { return (answer.plugindata && answer.plugindata.data) || {}; }

  /* ---- Peer connections ------------------------------------------------------------------ */

  function peer(handle) {
    // The server's STUN/TURN servers for this participant (their own short-lived TURN
    // credentials), and "relay" when the clinic's media must never go peer to peer.
    var pc = new RTCPeerConnection({
      iceServers: (join && Array.isArray(join.ice_servers)) ? join.ice_servers : [],
      iceTransportPolicy: (join && join.ice_transport_policy === "relay") ? "relay" : "all"
    });
    pc.onicecandidate = function (event) {
      if (!pc.described || !janus) { return; }
      var candidate = event.candidate ? event.candidate.toJSON() : { completed: true };
      request({ janus: "trickle", handle_id: handle, candidate: candidate }, true).catch(function () {});
    };
    return pc;
  }

  /* Resolves once gathering completed or GATHER_TIMEOUT_MS passed (the rest is trickled). */
  function gathered(pc) {
    return new Promise(function (resolve) {
      if (pc.iceGatheringState === "complete") { resolve(); return; }
      var timer = window.setTimeout(done, GATHER_TIMEOUT_MS);
      function done() {
        window.clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", changed);
        resolve();
      }
      function changed() { if (pc.iceGatheringState === "complete") { done(); } }
      pc.addEventListener("icegatheringstatechange", changed);
    });
  }

  function described(pc, handle) {
    pc.described = true;
    if (pc.iceGatheringState === "complete") {
      request({ janus: "trickle", handle_id: handle, candidate: { completed: true } }, true).catch(function () {});
    }
  }

  /* Offer from us, answer from the plugin (`body` carries the request). */
  function offer(pc, handle, body) {
    return pc.createOffer().then(function (description) { return pc.setLocalDescription(description); })
      .then(function () { return gathered(pc); })
      .then(function () {
        return message(handle, body, { type: "offer", sdp: pc.localDescription.sdp });
      }).then(function (answer) {
        if (!answer.jsep) { throw new Error("no answer"); }
        return pc.setRemoteDescription(answer.jsep);
      }).then(function () { described(pc, handle); });
  }

  function localStream() { return desk.localStream(); }

  function joinBody(extra) {
    return Object.assign({
      request: "join", room: join.room, id: join.id, display: join.display, token: join.join_token
    }, extra || {});
  }

  /* ---- Joining -------------------------------------------------------------------------- */

  function credential() {
    return fetch("/patient/group-call", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: desk.token() }),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.status === 202) { return null; }  // waiting to be admitted
        if (response.status !== 200) {
          var error = new Error((body && body.message) || "The clinic could not open the group call.");
          error.refused = body && body.code;
          throw error;
        }
        return body;
      });
    });
  }

  function joinGroup() {
    buildControls();
    if (asking || join || left) { return; }
    asking = true;
    setState("connecting", waiting ? "Waiting for the clinician to let you in…" : "Joining the group call…");
    credential().then(function (answer) {
      asking = false;
      if (!answer) { wait(); return null; }
      if (waiting) {
        waiting = false;
        $("group-waiting").hidden = true;
        $("group-call").removeAttribute("data-waiting");
      }
      join = answer;
      people[join.id] = { id: join.id, display: join.display + " (you)", muted: false, talking: false, video: false, me: true };
      return openJanus(join.janus_url, join.janus_token);
    }).then(function () {
      if (!join) { return; }
      return joinAudio().then(joinVideo).then(function () {
        setState("connected", "You are in the group call");
        announce("You are in the group call.");
        qualityTimer = window.setInterval(checkQuality, QUALITY_MS);
        render();
        joinChat();
      });
    }).catch(function (error) {
      asking = false;
      if (left) { return; }
      if (error.refused === "link_expired" || error.refused === "call_over" ||
          error.refused === "call_ended") { desk.showEnded(); return; }
      var text = error.refused ? error.message
        : "We could not join the group call (" + error.message + "). Reload the page to try again.";
      ended("problem", text);
    });
  }

  /* Janus went away: everyone else off the screen, then back in by ourselves. */
  function lost() {
    reconnecting = true;
    closeLegs();
    Object.keys(people).forEach(function (id) { if (!people[id].me) { delete people[id]; } });
    screens = {};
    speaker = null;
    setState("reconnecting", "The connection to the group call was lost: reconnecting…");
    announce("The connection to the group call was lost: reconnecting.");
    render();
    retry(0, Date.now());
  }

  function retry(attempt, since) {
    window.setTimeout(function () {
      if (left) { return; }
      credential().then(function (answer) {
        if (!answer) { throw new Error("not admitted"); }  // admission is kept: not expected
        join = answer;
        return openJanus(join.janus_url, join.janus_token);
      }).then(joinAudio).then(joinVideo).then(function () {
        reconnecting = false;
        setState("connected", "You are in the group call");
        announce("Reconnected to the group call.");
        render();
        joinChat();
      }).catch(function (error) {
        if (left) { return; }
        if (error.refused && FINAL.indexOf(error.refused) >= 0) {
          reconnecting = false;
          if (error.refused === "removed" || error.refused === "room_locked") { ended("removed", error.message); }
          else { desk.showEnded(); leave(); }
          return;
        }
        closeLegs();
        if (Date.now() - since > RECONNECT_MS) {
          reconnecting = false;
          ended("lost", "The group call service did not come back. Reload the page to try again.");
          return;
        }
        retry(attempt + 1, since);
      });
    }, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  }

  /* Closes every peer connection and the Janus socket (gone already, or half made). */
  function closeLegs() {
    Object.keys(tiles).forEach(dropTile);
    [mixer, publisher, chat].forEach(function (part) { if (part && part.pc) { part.pc.close(); } });
    mixer = publisher = chat = null;
    var old = janus;
    janus = null;
    if (old) {
      if (old.timer) { window.clearInterval(old.timer); }
      if (old.socket.readyState === WebSocket.OPEN || old.socket.readyState === WebSocket.CONNECTING) {
        old.socket.close();
      }
    }
  }

  /* The clinician has not let us in yet: say so, and wait for the server's word. */
  function wait() {
    if (!waiting) { announce("You are in the waiting room. The clinician will let you in shortly."); }
    waiting = true;
    setState("waiting", "Waiting for the clinician to let you in…");
    $("group-waiting").hidden = false;
    $("group-call").setAttribute("data-waiting", "true");
  }

  /* Someone was admitted (or the socket reconnected): ask again if we still wait. */
  function admissionChanged() {
    if (waiting && !join && !left) { joinGroup(); }
  }

  function joinAudio() {
    return attach("janus.plugin.audiobridge", audioEvent).then(function (handle) {
      mixer = { handle: handle, pc: null };
      return message(handle, joinBody({ muted: muted }));
    }).then(function (answer) {
      roster(data(answer).participants || []);
      var pc = mixer.pc = peer(mixer.handle);
      pc.ontrack = function (event) {
        if (event.track.kind !== "audio") { return; }
        var audio = $("group-mix");
        audio.srcObject = new MediaStream([event.track]);
        var playing = audio.play();
        if (playing && playing.catch) { playing.catch(function () { /* autoplay: a click retries */ }); }
      };
      var stream = localStream();
      var track = stream && stream.getAudioTracks()[0];
      if (track) { track.enabled = !muted; pc.addTrack(track, stream); }
      else { pc.addTransceiver("audio", { direction: "recvonly" }); }
      return offer(pc, mixer.handle, { request: "configure", muted: muted || !track });
    });
  }

  function joinVideo() {
    return attach("janus.plugin.videoroom", videoEvent).then(function (handle) {
      publisher = { handle: handle, pc: null };
      return message(handle, joinBody({ ptype: "publisher" }));
    }).then(function (answer) {
      publishers(data(answer).publishers || []);
      var stream = localStream();
      var track = !desk.audioOnly() && stream && stream.getVideoTracks()[0];
      $("group-self").srcObject = track ? stream : null;
      $("group-self-box").hidden = !track;
      if (!track) { return null; }
      var pc = publisher.pc = peer(publisher.handle);
      pc.addTransceiver(track, { direction: "sendonly", streams: [stream], sendEncodings: LAYERS });
      people[join.id].video = true;
      return offer(pc, publisher.handle, { request: "publish", audio: false });
    });
  }

  /* ---- Janus's events ------------------------------------------------------------------- */

  function roster(entries) {
    entries.forEach(function (entry) {
      var id = String(entry.id);
      var person = people[id] || { id: id, display: entry.display || "Participant", video: false };
      person.display = person.me ? person.display : (entry.display || person.display);
      person.muted = !!entry.muted;
      if (person.me && person.muted !== muted) { mutedByRoom(person.muted); }
      person.talking = !person.muted && !!entry.talking;
      if (person.talking && !person.me && !speaker) { speaker = id; }
      people[id] = person;
    });
  }

  function publishers(entries) {
    entries.forEach(function (entry) {
      var id = String(entry.id);
      if (isScreen(id)) { screens[id] = entry.display || "Shared screen"; return; }
      var person = people[id] || { id: id, display: entry.display || "Participant", muted: false, talking: false };
      person.video = true;
      people[id] = person;
    });
  }

  /* The clinician removed someone: us (the call ends here, said in words) or another. */
  function kicked(body) {
    var who = body.kicked !== undefined ? body.kicked : body.reason === "kicked" ? body.leaving : undefined;
    if (who === undefined) { return false; }
    if (who === "ok" || String(who) === join.id) {
      ended("removed", "The clinician has removed you from this group call. Please contact the clinic if you think this is a mistake.");
      return true;
    }
    delete people[String(who)];
    dropTile(String(who));
    render();
    return true;
  }

  function audioEvent(message_) {
    var body = data(message_);
    var kind = body.audiobridge;
    if (kicked(body)) { return; }
    if (kind === "talking" || kind === "stopped-talking") {
      var who = people[String(body.id)];
      if (who) {
        who.talking = kind === "talking";
        if (who.talking && !who.me) { speaker = who.id; }
      }
    } else if ((kind === "joined" || kind === "event") && body.participants) {
      roster(body.participants);
    } else if (kind === "event" && body.leaving !== undefined) {
      delete people[String(body.leaving)];
      dropTile(String(body.leaving));
    } else if (kind === "destroyed" || (kind === "event" && body.error_code === 485)) {
      ended("ended", null);
      return;
    }
    render();
  }

  function videoEvent(message_) {
    var body = data(message_);
    if (body.videoroom === "destroyed") { ended("ended", null); return; }
    if (kicked(body)) { return; }
    if (body.publishers) { publishers(body.publishers); }
    ["unpublished", "leaving"].forEach(function (key) {
      if (body[key] !== undefined && screens[String(body[key])] !== undefined) {
        delete screens[String(body[key])];
        dropTile(String(body[key]));
      } else if (body[key] !== undefined && people[String(body[key])]) {
        people[String(body[key])].video = false;
        dropTile(String(body[key]));
      }
    });
    render();
  }

  /* ---- Tiles ----------------------------------------------------------------------------- */

  function isScreen(feed) { return feed.slice(-SCREEN_SUFFIX.length) === SCREEN_SUFFIX; }

  function nameOf(feed) { return people[feed] ? people[feed].display : (screens[feed] || ""); }

  /* The first screen shared into the room (not our own), shown large above the tiles. */
  function wantedScreen() {
    var feeds = Object.keys(screens).filter(function (feed) { return !join || feed !== join.id + SCREEN_SUFFIX; });
    return feeds.length ? feeds[0] : null;
  }

  /* The simulcast layer a tile's size needs (2 full, 1 half, 0 quarter); a screen is whole. */
  function layerFor(feed) {
    if (isScreen(feed)) { return 2; }
    var tile = tiles[feed];
    var width = tile && tile.figure ? tile.figure.clientWidth : 0;
    return width > 400 ? 2 : width > 180 ? 1 : 0;
  }

  /* Everyone else with video, the last speaker first; the first MAX_TILES are shown. */
  function wantedTiles() {
    var feeds = Object.keys(people).filter(function (id) { return !people[id].me && people[id].video; });
    feeds.sort(function (a, b) {
      if (a === speaker) { return -1; }
      if (b === speaker) { return 1; }
      return people[a].display.localeCompare(people[b].display);
    });
    return feeds.slice(0, MAX_TILES);
  }

  function subscribe(feed) {
    var tile = tiles[feed] = { handle: 0, pc: null, figure: null, video: null, layer: 1, mid: null,
      lost: 0, received: 0, steady: 0, audioOnly: false };
    var screen = isScreen(feed);
    var figure = tile.figure = element("figure", {
      "class": screen ? "group-tile group-screen" : "group-tile", "data-feed": feed });
    var video = tile.video = element("video", { autoplay: "", playsinline: "", "aria-hidden": "true" });
    video.muted = true;  // the sound comes from the mix
    figure.appendChild(video);
    figure.appendChild(element("figcaption", {}, nameOf(feed)));
    var box = $("group-tiles");
    box.insertBefore(figure, screen ? box.firstChild : $("group-self-box"));
    tile.layer = layerFor(feed);
    attach("janus.plugin.videoroom", function () {}).then(function (handle) {
      tile.handle = handle;
      if (tiles[feed] !== tile) { detach(handle); throw new Error("dropped"); }
      return message(handle, {
        request: "join", ptype: "subscriber", room: join.room,
        streams: [{ feed: feed, substream: tile.layer }], token: join.join_token
      });
    }).then(function (answer) {
      if (!answer.jsep) { throw new Error("no offer"); }
      var streams = data(answer).streams || [];
      var videoStream = streams.filter(function (stream) { return stream.type === "video"; })[0];
      tile.mid = videoStream ? videoStream.mid : null;
      var pc = tile.pc = peer(tile.handle);
      pc.ontrack = function (event) {
        if (event.track.kind === "video") { video.srcObject = new MediaStream([event.track]); }
      };
      return pc.setRemoteDescription(answer.jsep)
        .then(function () { return pc.createAnswer(); })
        .then(function (description) { return pc.setLocalDescription(description); })
        .then(function () { return gathered(pc); })
        .then(function () {
          return message(tile.handle, { request: "start" }, { type: "answer", sdp: pc.localDescription.sdp });
        }).then(function () { described(pc, tile.handle); });
    }).catch(function () {
      if (tiles[feed] === tile) { dropTile(feed); }
    });
  }

  function detach(handle) {
    if (!handle || !janus) { return; }
    delete janus.handlers[handle];
    request({ janus: "detach", handle_id: handle }).catch(function () {});
  }

  function dropTile(feed) {
    var tile = tiles[feed];
    if (!tile) { return; }
    delete tiles[feed];
    if (tile.pc) { tile.pc.close(); }
    detach(tile.handle);
    if (tile.figure && tile.figure.parentNode) { tile.figure.parentNode.removeChild(tile.figure); }
  }

  /* Asks Janus for another simulcast layer of a tile (publishers without simulcast ignore it). */
  function setLayer(feed, layer) {
    var tile = tiles[feed];
    if (!tile || !tile.handle || tile.mid === null || tile.layer === layer) { return; }
    tile.layer = layer;
    tile.figure.setAttribute("data-layer", String(layer));
    message(tile.handle, { request: "configure", streams: [{ mid: tile.mid, substream: layer }] }).catch(function () {});
  }

  /* A tile on a lossy network drops a layer, at the lowest its video stops (audio-only: the
     mix goes on) and comes back when the network is steady again. */
  function checkQuality() {
    if (left || reconnecting) { return; }
    Object.keys(tiles).forEach(function (feed) {
      var tile = tiles[feed];
      if (!tile.pc) { return; }
      tile.pc.getStats().then(function (report) {
        var lost = 0, received = 0;
        report.forEach(function (entry) {
          if (entry.type === "inbound-rtp" && entry.kind === "video") {
            lost += entry.packetsLost || 0;
            received += entry.packetsReceived || 0;
          }
        });
        var newLost = lost - tile.lost, total = newLost + received - tile.received;
        tile.lost = lost;
        tile.received = received;
        var lossy = total > 0 && newLost / total > LOSSY;
        var wanted = layerFor(feed);
        if (lossy) {
          tile.steady = 0;
          if (tile.layer > 0) { setLayer(feed, tile.layer - 1); }
          else { audioOnly(feed, true); }
        } else if (++tile.steady >= STEADY) {
          tile.steady = 0;
          if (tile.audioOnly) { audioOnly(feed, false); }
          else if (tile.layer < wanted) { setLayer(feed, tile.layer + 1); }
        }
        if (!lossy && tile.layer > wanted) { setLayer(feed, wanted); }
      }).catch(function () {});
    });
  }

  function audioOnly(feed, on) {
    var tile = tiles[feed];
    if (!tile || tile.mid === null || tile.audioOnly === on) { return; }
    tile.audioOnly = on;
    tile.figure.setAttribute("data-audio-only", String(on));
    message(tile.handle, { request: "configure", streams: [{ mid: tile.mid, send: !on }] }).catch(function () {});
    if (on) { announce("The network is weak: " + nameOf(feed) + "'s video is paused, you still hear everyone."); }
  }

  function render() {
    if (!join || left) { return; }
    var wanted = wantedTiles();
    var screen = reconnecting ? null : wantedScreen();
    Object.keys(tiles).forEach(function (feed) {
      if (wanted.indexOf(feed) < 0 && feed !== screen) { dropTile(feed); }
    });
    if (reconnecting) { wanted = []; }
    if (screen && !tiles[screen]) { subscribe(screen); }
    wanted.forEach(function (feed) { if (!tiles[feed]) { subscribe(feed); } });
    // The speaker's tile first and framed; the others in the list's order; oneself last.
    var box = $("group-tiles");
    var shown = Array.prototype.map.call(box.querySelectorAll("figure[data-feed]"), function (figure) {
      return figure.getAttribute("data-feed");
    }).filter(function (feed) { return !isScreen(feed); });
    wanted.forEach(function (feed) {
      var tile = tiles[feed];
      tile.figure.setAttribute("data-speaking", String(!!people[feed].talking));
      tile.figure.querySelector("figcaption").textContent = people[feed].display;
    });
    // Moving a playing <video> pauses it: the tiles move only when the order changed.
    if (shown.join("\n") !== wanted.join("\n")) {
      wanted.forEach(function (feed) { box.insertBefore(tiles[feed].figure, $("group-self-box")); });
      wanted.forEach(function (feed) {
        var video = tiles[feed].video;
        if (video.srcObject && video.paused) { video.play().catch(function () {}); }
      });
    }
    $("group-no-tiles").hidden = wanted.length > 0;
    renderList();
  }

  function renderList() {
    var list = $("group-people");
    var ids = Object.keys(people).sort(function (a, b) {
      if (people[a].me) { return -1; }
      if (people[b].me) { return 1; }
      return people[a].display.localeCompare(people[b].display);
    });
    list.textContent = "";
    ids.forEach(function (id) {
      var person = people[id];
      var item = element("li", { "data-id": id, "data-speaking": String(!!person.talking) });
      item.appendChild(element("span", { "class": "person-name" }, person.display));
      var state = person.muted ? "microphone off" : person.talking ? "speaking" : "microphone on";
      item.appendChild(element("span", { "class": "person-state" }, state + (person.video ? "" : ", no video")));
      list.appendChild(item);
    });
    $("group-count").textContent = ids.length === 1 ? "Only you so far" : ids.length + " people in the call";
  }

  /* ---- Controls ---------------------------------------------------------------------------- */

  var ui = null;

  function buildControls() {
    if (ui) { return; }
    ui = { mute: $("group-mute"), camera: $("group-camera"), leave: $("group-leave") };
    var stream = localStream();
    ui.mute.hidden = !(stream && stream.getAudioTracks().length);
    ui.camera.hidden = desk.audioOnly() || !(stream && stream.getVideoTracks().length);
    ui.mute.addEventListener("click", toggleMute);
    ui.camera.addEventListener("click", toggleCamera);
    ui.leave.addEventListener("click", function () { leave(); desk.showEnded(); });
    $("group-chat-form").addEventListener("submit", sendChat);
    $("group-call").addEventListener("click", function () {
      var audio = $("group-mix");
      if (audio.srcObject && audio.paused) { audio.play().catch(function () {}); }
    });
  }

  function toggleMute() {
    muted = !muted;
    var stream = localStream();
    if (stream) { stream.getAudioTracks().forEach(function (track) { track.enabled = !muted; }); }
    // Muted in the room too: everyone's list shows it, and the mix leaves us out.
    if (mixer && mixer.pc) { message(mixer.handle, { request: "configure", muted: muted }).catch(function () {}); }
    if (join && people[join.id]) { people[join.id].muted = muted; people[join.id].talking = false; renderList(); }
    ui.mute.setAttribute("data-active", String(muted));
    ui.mute.textContent = muted ? "Unmute" : "Mute";
    announce(muted ? "Your microphone is off." : "Your microphone is on.");
  }

  /* The clinician muted (or unmuted) us in the room: the track and the button follow. */
  function mutedByRoom(value) {
    muted = value;
    var stream = localStream();
    if (stream) { stream.getAudioTracks().forEach(function (track) { track.enabled = !muted; }); }
    if (!ui) { return; }
    ui.mute.setAttribute("data-active", String(muted));
    ui.mute.textContent = muted ? "Unmute" : "Mute";
    announce(muted ? "The clinician muted your microphone." : "Your microphone is on.");
  }

  function toggleCamera() {
    cameraOff = !cameraOff;
    var stream = localStream();
    var track = stream && stream.getVideoTracks()[0];
    if (!track) { return; }
    track.enabled = !cameraOff;
    if (publisher && publisher.pc) {
      publisher.pc.getSenders().forEach(function (sender) { sender.replaceTrack(cameraOff ? null : track); });
    }
    $("group-self").classList.toggle("camera-off", cameraOff);
    ui.camera.setAttribute("data-active", String(cameraOff));
    ui.camera.textContent = cameraOff ? "Start camera" : "Stop camera";
    announce(cameraOff ? "Your camera is off." : "Your camera is on.");
  }

  /* ---- Leaving ------------------------------------------------------------------------------ */

  function leave() {
    if (left) { return; }
    left = true;
    if (qualityTimer) { window.clearInterval(qualityTimer); }
    Object.keys(tiles).forEach(dropTile);
    [mixer, publisher, chat].forEach(function (part) { if (part && part.pc) { part.pc.close(); } });
    if (janus && janus.socket.readyState === WebSocket.OPEN) {
      try { send({ janus: "destroy" }, transaction()); } catch (e) { /* closing anyway */ }
      janus.socket.close();
    }
    if (janus && janus.timer) { window.clearInterval(janus.timer); }
    $("group-mix").srcObject = null;
  }

  /* The room closed ("ended"), the connection went ("lost") or joining failed ("problem"). */
  var HEADINGS = {
    removed: "You were removed from the call",
    lost: "The connection was lost",
    problem: "The group call is not available"
  };

  function ended(how, text) {
    leave();
    $("group-waiting").hidden = true;
    if (how === "ended") { desk.showEnded(); return; }
    setState("problem", text);
    var notice = $("group-problem");
    notice.setAttribute("data-reason", how);
    notice.querySelector("h2").textContent = HEADINGS[how];
    notice.querySelector("p").textContent = text;
    notice.hidden = false;
    announce(text);
  }

  /* ---- Chat to everyone (TextRoom over a data channel) -------------------------------------- */

  function joinChat() {
    var box = $("group-chat");
    var state = $("group-chat-state");
    attach("janus.plugin.textroom", function () {}).then(function (handle) {
      chat = { handle: handle, pc: null, channel: null, pending: {} };
      return message(handle, { request: "setup" });
    }).then(function (answer) {
      if (!answer.jsep) { throw new Error("no offer"); }
      var pc = chat.pc = peer(chat.handle);
      // Janus talks on the channel the page opens (the label janus.js uses too).
      var channel = chat.channel = pc.createDataChannel("JanusDataChannel", { ordered: true });
      var opened = new Promise(function (resolve) { channel.onopen = resolve; });
      channel.onmessage = function (event) { chatReceived(event.data); };
      return pc.setRemoteDescription(answer.jsep)
        .then(function () { return pc.createAnswer(); })
        .then(function (description) { return pc.setLocalDescription(description); })
        .then(function () { return gathered(pc); })
        .then(function () {
          return message(chat.handle, { request: "ack" }, { type: "answer", sdp: pc.localDescription.sdp });
        }).then(function () { described(pc, chat.handle); return opened; });
    }).then(function () {
      return chatRequest({ textroom: "join", room: join.room, username: join.id,
        display: join.display, token: join.join_token });
    }).then(function (joined) {
      names[join.id] = join.display;
      (joined.participants || []).forEach(function (person) { names[String(person.username)] = person.display || ""; });
      box.hidden = false;
      $("group-chat-form").hidden = false;  // again, after a Janus restart took it away
      state.textContent = "";
    }).catch(function (error) {
      if (left) { return; }
      box.hidden = false;
      $("group-chat-form").hidden = true;
      state.textContent = "The chat is not available just now (" + error.message + "). The call goes on.";
    });
  }

  function chatRequest(body) {
    return new Promise(function (resolve, reject) {
      if (!chat || !chat.channel || chat.channel.readyState !== "open") { reject(new Error("not connected")); return; }
      var id = transaction();
      var timer = window.setTimeout(function () { delete chat.pending[id]; reject(new Error("timeout")); }, REQUEST_MS);
      chat.pending[id] = function (answer) {
        window.clearTimeout(timer);
        if (answer.textroom === "error") { reject(new Error(answer.error || "refused")); } else { resolve(answer); }
      };
      chat.channel.send(JSON.stringify(Object.assign({}, body, { transaction: id })));
    });
  }

  function chatReceived(raw) {
    var message_;
    try { message_ = JSON.parse(raw); } catch (e) { return; }
    var answer = chat && chat.pending[message_.transaction];
    if (answer) { delete chat.pending[message_.transaction]; answer(message_); return; }
    if (message_.textroom === "join") { names[String(message_.username)] = message_.display || ""; }
    if (message_.textroom === "message" && typeof message_.text === "string") {
      var from = String(message_.from);
      addChat(from === join.id ? "You" : (names[from] || "Participant"), message_.text, message_.date, from === join.id);
    }
  }

  /* Everything written goes in as text, never as markup. */
  function addChat(who, text, date, mine) {
    var log = $("group-chat-log");
    var item = element("li", { "data-mine": String(!!mine) });
    item.appendChild(element("span", { "class": "chat-who" }, who));
    var when = element("time", {}, "");
    var at = date ? new Date(String(date).replace(/([+-]\d\d)(\d\d)$/, "$1:$2")) : new Date();
    if (isNaN(at.getTime())) { at = new Date(); }
    when.setAttribute("datetime", at.toISOString());
    when.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    item.appendChild(when);
    item.appendChild(element("span", { "class": "chat-text" }, text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (!mine) { announce(who + " wrote: " + text); }
  }

  function sendChat(event) {
    event.preventDefault();
    var input = $("group-chat-text");
    var text = input.value.trim();
    if (!text) { return; }
    input.disabled = true;
    chatRequest({ textroom: "message", room: join.room, text: text }).then(function () {
      input.value = "";
      $("group-chat-state").textContent = "";
    }).catch(function (error) {
      $("group-chat-state").textContent = "Your message was not sent (" + error.message + "). Try again.";
    }).then(function () { input.disabled = false; input.focus(); });
  }

  desk.joinGroup = joinGroup;
  desk.leaveGroup = leave;
  desk.admissionChanged = admissionChanged;

  /* ---- For tests and support: what each part receives ------------------------------------- */

  desk.groupStats = function () {
    var parts = Object.keys(tiles).map(function (feed) {
      return { feed: feed, pc: tiles[feed].pc, layer: tiles[feed].layer };
    });
    if (mixer && mixer.pc) { parts.push({ feed: "mix", pc: mixer.pc }); }
    if (publisher && publisher.pc) { parts.push({ feed: "publisher", pc: publisher.pc }); }
    return Promise.all(parts.map(function (part) {
      if (!part.pc) { return { feed: part.feed, ice: "new" }; }
      return part.pc.getStats().then(function (report) {
        var summary = { feed: part.feed, layer: part.layer, ice: part.pc.iceConnectionState, framesDecoded: 0,
          audioEnergy: 0, framesSent: 0, audioSent: 0 };
        report.forEach(function (entry) {
          if (entry.type === "inbound-rtp" && entry.kind === "video") { summary.framesDecoded += entry.framesDecoded || 0; }
          if (entry.type === "inbound-rtp" && entry.kind === "audio") { summary.audioEnergy += entry.totalAudioEnergy || 0; }
          if (entry.type === "outbound-rtp" && entry.kind === "video") {
            summary.framesSent += entry.framesSent || 0;
            if (entry.framesSent) { summary.layersSent = (summary.layersSent || 0) + 1; }
          }
          if (entry.type === "outbound-rtp" && entry.kind === "audio") { summary.audioSent += entry.packetsSent || 0; }
        });
        return summary;
      });
    })).then(function (summaries) {
      var byFeed = {};
      summaries.forEach(function (summary) { byFeed[summary.feed] = summary; });
      return { people: Object.keys(people).map(function (id) { return people[id]; }), parts: byFeed,
        screens: Object.keys(screens), reconnecting: reconnecting };
    });
  };
})();
