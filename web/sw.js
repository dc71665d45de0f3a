// RetroWalk's service worker: the app shell from a versioned precache, cue audio from a
// cache of its own (cache-first: files are immutable, named by their content's hash), the
// API network-first with the last answer kept for offline use. Websockets never pass here.

// The server replaces "dev" with a hash of every file below (server/pages.py), so any
// change to the app ships a new cache without anyone bumping a number.
const VERSION = "dev";
const PREFIX = "retrowalk-";
const SHELL_CACHE = `${PREFIX}shell-${VERSION}`;
const AUDIO_CACHE = `${PREFIX}audio`;
const API_CACHE = `${PREFIX}api`;
// How long a network answer to the API may take before the cached one is used instead.
const API_TIMEOUT_MS = 4000;

// Every file of web/ (but this one), by URL; "/" is index.html. tests/test_web.py checks
// this list against the folder both ways.
const PRECACHE = [
  "/",
  "/manifest.webmanifest",
  "/css/app.css",
  "/js/api.js",
  "/js/audio.js",
  "/js/charts.js",
  "/js/clock.js",
  "/js/coach.js",
  "/js/dom.js",
  "/js/live.js",
  "/js/main.js",
  "/js/phone.js",
  "/js/plans.js",
  "/js/settings.js",
  "/js/store.js",
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

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // cache.addAll fails as a whole if any answer is not ok: a half shell is never installed.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      // Only our own old shells go; the audio and API caches outlive versions.
      if (name.startsWith(`${PREFIX}shell-`) && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/audio/")) {
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
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

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
    return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers });
  }
}
