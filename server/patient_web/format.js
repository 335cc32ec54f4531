/* Dates and times on the patient's pages: the patient's locale, the clinic's time zone.
 *
 * The one formatter every page uses (waiting-room.js, call.js). Intl.DateTimeFormat in the
 * locales the browser reports, so a 24-hour locale reads "14:00" and a 12-hour one "2:00 PM";
 * in the clinic's time zone (the appointment's location), so a patient abroad reads the
 * clinic's wall clock, with the zone named where a date is written in full.
 */
(function () {
  "use strict";

  var zone = "UTC";

  function locales() {
    var list = navigator.languages && navigator.languages.length ? navigator.languages : null;
    return list ? Array.prototype.slice.call(list) : undefined;
  }

  function formatter(options) {
    var all = { timeZone: zone };
    Object.keys(options).forEach(function (key) { all[key] = options[key]; });
    return new Intl.DateTimeFormat(locales(), all);
  }

  function parse(value) {
    var stamp = value instanceof Date ? value : new Date(value);
    return isNaN(stamp.getTime()) ? null : stamp;
  }

  var FULL = {
    weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "numeric", minute: "2-digit", timeZoneName: "short"
  };
  var TIME = { hour: "numeric", minute: "2-digit" };
  var DAY = { weekday: "long", day: "numeric", month: "long" };
  var DATE_KEY = { year: "numeric", month: "2-digit", day: "2-digit" };

  window.clinicDeskFormat = {
    /* The clinic's IANA zone ("Europe/London"); an unknown one keeps the previous zone. */
    setZone: function (name) {
      try {
        new Intl.DateTimeFormat(undefined, { timeZone: name });
        zone = name;
        return true;
      } catch (e) {
        return false;
      }
    },
    zone: function () { return zone; },
    /* "Friday, 27 November 2026, 14:00–14:20 GMT" (en-GB); `fallback` when it cannot be. */
    span: function (start, end, fallback) {
      var from = parse(start), to = parse(end);
      if (!from) { return fallback || ""; }
      try {
        var full = formatter(FULL);
        return to && full.formatRange ? full.formatRange(from, to) : full.format(from);
      } catch (e) {
        return fallback || "";
      }
    },
    /* "14:00" (en-GB, de) or "2:00 PM" (en-US), on the clinic's clock. */
    time: function (value) {
      var stamp = parse(value);
      if (!stamp) { return ""; }
      try { return formatter(TIME).format(stamp); } catch (e) { return ""; }
    },
    /* "at 14:00" on the clinic's today (by `now`), else "on Friday 27 November at 14:00". */
    moment: function (value, now) {
      var stamp = parse(value), today = parse(now || new Date());
      if (!stamp) { return ""; }
      try {
        var key = formatter(DATE_KEY);
        var at = "at " + formatter(TIME).format(stamp);
        if (!today || key.format(stamp) === key.format(today)) { return at; }
        return "on " + formatter(DAY).format(stamp) + " " + at;
      } catch (e) {
        return "";
      }
    }
  };
})();
