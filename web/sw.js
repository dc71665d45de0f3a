// RetroWalk's service worker: the app shell from a versioned precache, cue audio from a
// cache of its own (cache-first: files are immutable, named by their content's hash), the
// tracks of walks played (whole-walk audio) in a bounded cache of their own, the API
// network-first with the last answer kept for offline use. Websockets never pass here.
// Range requests for cached audio are answered with 206 from the cache: Safari plays media
// (offline too) only from a server that honours Range, and a cached 206 cannot exist.

// The server replaces "dev" with a hash of every file below (server/pages.py), so any
// change to the app ships a new cache without anyone bumping a number.
const VERSION = "dev";
/** This script's global scope, as the service worker it is (for the type check: jsconfig.sw.json). */
const worker = /** @type {ServiceWorkerGlobalScope & typeof globalThis} */ (/** @type {unknown} */ (self));
const PREFIX = "retrowalk-";
const SHELL_CACHE = `${PREFIX}shell-${VERSION}`;
const AUDIO_CACHE = `${PREFIX}audio`;
const API_CACHE = `${PREFIX}api`;
/** Whole-walk tracks (server/track.py): big, so kept apart from the cue files and bounded. */
const TRACK_CACHE = `${PREFIX}tracks`;
const TRACK_PATH = "/audio/tracks/";
/** Tracks kept for offline: the most recently played ones, at most this many... */
const MAX_TRACKS = 8;
/** ...and at most this many bytes together (a 4-hour walk is about 30 MB at 125 KB a minute). The track played last is always kept. */
const MAX_TRACK_BYTES = 100 * 1024 * 1024;
/** When each kept track was last played and how big it is: a JSON entry in the track cache under this key. */
const TRACK_INDEX_KEY = "/__retrowalk/track-index.json";
/** A track played from the cache is marked as used again at most this often (the player asks for many ranges). */
const TRACK_TOUCH_EVERY_MS = 60_000;
/** A single byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (RFC 9110 14.1.2). */
const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;
// How long a network answer to the API may take before the cached one is used instead.
const API_TIMEOUT_MS = 4000;

// Every file of web/ (but this one), by URL; "/" is index.html. tests/test_web.py checks
// this list against the folder both ways.
const PRECACHE = [
  "/",
  "/manifest.webmanifest",
  "/css/screens.css",
  "/js/api.js",
  "/js/audio.js",
  "/js/builtin.js",
  "/js/charts.js",
  "/js/chrome.js",
  "/js/clock.js",
  "/js/coach.js",
  "/js/controllers/editing.js",
  "/js/controllers/held.js",
  "/js/controllers/picker.js",
  "/js/controllers/pickerdata.js",
  "/js/controllers/planlist.js",
  "/js/controllers/records.js",
  "/js/controllers/settings.js",
  "/js/controllers/walk.js",
  "/js/dom.js",
  "/js/figures.js",
  "/js/i18n.js",
  "/js/i18n/de-core.js",
  "/js/i18n/de-more.js",
  "/js/i18n/es-core.js",
  "/js/i18n/es-more.js",
  "/js/i18n/fr-core.js",
  "/js/i18n/fr-more.js",
  "/js/install.js",
  "/js/live.js",
  "/js/main.js",
  "/js/offline.js",
  "/js/pagewords.js",
  "/js/phone.js",
  "/js/plans.js",
  "/js/pocket.js",
  "/js/rounding.js",
  "/js/router.js",
  "/js/settings.js",
  "/js/store.js",
  "/js/walkstore.js",
  "/js/updates.js",
  "/js/walkclock.js",
  "/js/workout.js",
  "/js/screens/editor.js",
  "/js/screens/history.js",
  "/js/screens/incoming.js",
  "/js/screens/picker.js",
  "/js/screens/player.js",
  "/js/screens/progress.js",
  "/js/screens/ready.js",
  "/js/screens/settings.js",
  "/js/screens/summary.js",
  "/icons/walker.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-192.png",
  "/icons/maskable-512.png",
  "/icons/apple-touch-icon.png",
];

worker.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // cache.addAll fails as a whole if any answer is not ok: a half shell is never installed.
    // "no-cache": each file is revalidated, never taken on trust from the HTTP cache (the server
    // marks every one no-cache, with an ETag), so the files the page has just loaded come as 304s
    // instead of being downloaded a second time on a phone's first visit.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "no-cache" })));
    // No skipWaiting here: a new version waits until the page asks (web/js/updates.js), so a page
    // that loaded the old main.js never imports the new screens. A first install has no worker to
    // wait for and activates at once.
  })());
});

worker.addEventListener("message", (event) => {
  // The walker tapped "Reload to update": take over now; the page reloads on controllerchange.
  if (event.data?.type === "skip-waiting") worker.skipWaiting();
});

worker.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      // Only our own old shells go; the audio and API caches outlive versions.
      if (name.startsWith(`${PREFIX}shell-`) && name !== SHELL_CACHE) await caches.delete(name);
    }
    // On a first install the open page is taken over at once (it has no other version to mix
    // with); after an update every page it takes over reloads or is offered the reload.
    await worker.clients.claim();
  })());
});

worker.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== worker.location.origin) return;
  if (url.pathname.startsWith(TRACK_PATH)) {
    event.respondWith(trackFirst(event, url));
  } else if (url.pathname.startsWith("/audio/")) {
    event.respondWith(audioFirst(request));
  } else if (url.pathname.startsWith("/api/")) {
    event.respondWith(apiNetworkFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(shell(new Request("/")));
  } else if (PRECACHE.includes(url.pathname)) {
    event.respondWith(shell(request));
  }
  // Anything else (sw.js, the QR code, /ws/ upgrades, /healthz) goes to the network as usual.
});

/** The app shell from the precache, the network if it is somehow missing. */
async function shell(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  return cached || fetch(request);
}

/** Cue audio: cached forever once fetched (its name is its content's hash). */
async function audioFirst(request) {
  const cache = await caches.open(AUDIO_CACHE);
  const cached = await cache.match(request.url, { ignoreVary: true });
  if (cached) return partial(request, cached);
  const response = await fetch(request);
  // Only a whole file is kept: a 206 (the player asked for a range) cannot be cached.
  if (response.ok && response.status !== 206) await cache.put(request.url, response.clone());
  return response;
}

/**
 * A walk's track: from the cache (a range of it when asked), else from the network while
 * the whole file is fetched into the cache behind it, so a walk played once plays offline.
 * @param {FetchEvent} event
 * @param {URL} url
 */
async function trackFirst(event, url) {
  const request = event.request;
  const cache = await caches.open(TRACK_CACHE);
  const cached = await cache.match(url.href, { ignoreVary: true });
  if (cached) {
    event.waitUntil(touchTrack(url.pathname).catch(() => {}));
    return partial(request, cached);
  }
  if (request.headers.has("range")) {
    // The player streams by ranges; the whole file comes in the background (a 206 cannot be
    // cached), started once the range asked for has its answer so the first word never waits for it.
    const response = await fetch(request);
    event.waitUntil(keepTrack(url).catch(() => {}));
    return response;
  }
  const response = await fetch(request);
  if (response.status === 200) event.waitUntil(storeTrack(url, response.clone()).catch(() => {}));
  return response;
}

/**
 * The bytes a Range header asks for, as [start, end) of a file of `size` bytes.
 * @param {string} header e.g. "bytes=0-1023", "bytes=1024-", "bytes=-500"
 * @param {number} size
 * @returns {{start: number, end: number}|"unsatisfiable"|null} null when the header is not a
 *   single byte range (then the whole file is the answer, as RFC 9110 allows)
 */
function byteRange(header, size) {
  const match = SINGLE_RANGE.exec(header.trim().toLowerCase().replace(/\s+/g, ""));
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    // A suffix: the last n bytes (all of them if the file is shorter).
    const length = Number(match[2]);
    if (length === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - length), end: size };
  }
  const start = Number(match[1]);
  if (match[2] !== "" && Number(match[2]) < start) return null;
  if (start >= size) return "unsatisfiable";
  const last = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  return { start, end: last + 1 };
}

/**
 * The answer to a request from a whole cached file: as it is, or the range asked for (206),
 * or 416 when the range lies past its end.
 * @param {Request} request
 * @param {Response} whole
 */
async function partial(request, whole) {
  const header = request.headers.get("range");
  if (!header) return whole;
  const body = await whole.blob();
  const range = byteRange(header, body.size);
  if (range === null) return new Response(body, { status: 200, statusText: "OK", headers: whole.headers });
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, statusText: "Range Not Satisfiable", headers: { "Content-Range": `bytes */${body.size}` } });
  }
  const headers = new Headers(whole.headers);
  headers.set("Content-Length", String(range.end - range.start));
  headers.set("Content-Range", `bytes ${range.start}-${range.end - 1}/${body.size}`);
  headers.set("Accept-Ranges", "bytes");
  return new Response(body.slice(range.start, range.end), { status: 206, statusText: "Partial Content", headers });
}

/** Whole-file downloads of tracks under way, by URL, so two players never fetch one twice. */
const keeping = new Map();

/**
 * Make sure a walk's track is in the cache (fetching the whole file, without Range) and marked as just played.
 * @param {URL} url
 */
function keepTrack(url) {
  if (keeping.has(url.pathname)) return keeping.get(url.pathname);
  const job = (async () => {
    const cache = await caches.open(TRACK_CACHE);
    if (await cache.match(url.href, { ignoreVary: true })) return touchTrack(url.pathname, true);
    const response = await fetch(url.href, { credentials: "same-origin" });
    if (response.status !== 200) throw new Error(`track ${url.pathname}: ${response.status}`);
    return storeTrack(url, response);
  })().finally(() => keeping.delete(url.pathname));
  keeping.set(url.pathname, job);
  return job;
}

/**
 * Put a whole track in the cache, note it as just played, and evict the least recently played beyond the bounds.
 * @param {URL} url
 * @param {Response} response a 200 with the whole file
 */
async function storeTrack(url, response) {
  const cache = await caches.open(TRACK_CACHE);
  await cache.put(url.href, response);
  const stored = await cache.match(url.href, { ignoreVary: true });
  if (!stored) return;
  const declared = Number(stored.headers.get("content-length"));
  const bytes = Number.isFinite(declared) && declared > 0 ? declared : (await stored.blob()).size;
  await withTrackIndex(async (index) => {
    index[url.pathname] = { bytes, used_at: Date.now() };
    await evictTracks(cache, index);
  });
}

/**
 * Note that a kept track was played now (at most once a minute, unless `now` is forced).
 * @param {string} path
 * @param {boolean} [force]
 */
function touchTrack(path, force = false) {
  return withTrackIndex(async (index) => {
    const entry = index[path];
    if (!entry || (!force && Date.now() - entry.used_at < TRACK_TOUCH_EVERY_MS)) return false;
    entry.used_at = Date.now();
    return true;
  });
}

/**
 * The tracks to let go: beyond the most recently played MAX_TRACKS, or past MAX_TRACK_BYTES
 * together; the most recent one always stays.
 * @param {Record<string, {bytes: number, used_at: number}>} index
 * @returns {string[]} their paths
 */
function tracksToEvict(index) {
  const newestFirst = Object.entries(index).sort(([, a], [, b]) => b.used_at - a.used_at);
  let kept = 0;
  let bytes = 0;
  const evict = [];
  for (const [path, entry] of newestFirst) {
    if (kept === 0 || (kept < MAX_TRACKS && bytes + entry.bytes <= MAX_TRACK_BYTES)) {
      kept += 1;
      bytes += entry.bytes;
    } else {
      evict.push(path);
    }
  }
  return evict;
}

/** Drop the tracks beyond the bounds from the cache and the index. */
async function evictTracks(cache, index) {
  for (const path of tracksToEvict(index)) {
    await cache.delete(new URL(path, worker.location.origin).href);
    delete index[path];
  }
}

/** Index updates one at a time: two walks' fetches ending together must not lose an entry. */
let trackIndexQueue = Promise.resolve();

/**
 * Read the track index, let `change` edit it, and write it back if it says so (anything but false).
 * Tracks in the cache the index does not know (an index lost) join it as played long ago.
 * @param {(index: Record<string, {bytes: number, used_at: number}>) => Promise<any>} change
 */
function withTrackIndex(change) {
  const run = trackIndexQueue.then(async () => {
    const cache = await caches.open(TRACK_CACHE);
    const stored = await cache.match(TRACK_INDEX_KEY);
    const index = stored ? await stored.json().catch(() => ({})) : {};
    for (const request of await cache.keys()) {
      const path = new URL(request.url).pathname;
      if (path.startsWith(TRACK_PATH) && !index[path]) {
        const response = await cache.match(request);
        index[path] = { bytes: Number(response?.headers.get("content-length")) || 0, used_at: 0 };
      }
    }
    for (const path of Object.keys(index)) {
      if (!(await cache.match(new URL(path, worker.location.origin).href, { ignoreVary: true }))) delete index[path];
    }
    const result = await change(index);
    if (result !== false) {
      await cache.put(TRACK_INDEX_KEY, new Response(JSON.stringify(index), { headers: { "Content-Type": "application/json" } }));
    }
    return result;
  });
  trackIndexQueue = run.catch(() => {});
  return run;
}

worker.addEventListener("message", (event) => {
  // The page says a walk with this track is starting: keep it for offline, as played now.
  const message = event.data;
  if (message?.type !== "keep-track" || typeof message.url !== "string") return;
  const url = new URL(message.url, worker.location.origin);
  if (url.origin !== worker.location.origin || !url.pathname.startsWith(TRACK_PATH)) return;
  event.waitUntil(keepTrack(url).catch((error) => console.warn("Could not keep the track for offline:", error.message)));
});

/** API: the network's answer (kept), or with no network the last answer, marked as such. */
async function apiNetworkFirst(request) {
  const cache = await caches.open(API_CACHE);
  try {
    const response = await fetch(request, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request);
    if (!cached) throw error;
    const headers = new Headers(cached.headers);
    headers.set("X-RetroWalk-Cache", "offline");
    // The body kept is the inflated JSON: the wire's encoding and length no longer describe it.
    headers.delete("Content-Encoding");
    headers.delete("Content-Length");
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}
