// A new version of the app reaches an open page without mixing two versions in it: the new
// service worker installs and waits (web/sw.js), the page offers "Reload to update" when no
// walk is running, and only on that tap does the worker take over and the page reload once,
// after the lifecycle in Jake Archibald's "The Service Worker Lifecycle" (web.dev).
// A first install has nothing to wait for: it controls the page at once and nothing is offered.

/** While a walk runs, how often the page looks again whether it has ended (the offer waits for that). */
export const WALK_CHECK_MS = 2000;
/** An app left open (a phone on the desk for days) asks the server for a new worker at most this often, when shown. */
export const UPDATE_CHECK_MS = 60 * 60 * 1000;
/** The message the waiting worker takes over on (web/sw.js). */
export const SKIP_WAITING = Object.freeze({ type: "skip-waiting" });

/**
 * Watch a registration for a new version and offer it to the walker between walks.
 * @param {ServiceWorkerRegistration} registration
 * @param {{walking: () => boolean, offer: (update: () => void) => void}} app `walking` says whether a
 *   walk is under way (the offer and the reload wait for its end); `offer` shows the walker a way to
 *   update, calling `update` on their tap
 * @param {ServiceWorkerContainer} [container] navigator.serviceWorker (a fake in tests)
 */
export function watchForUpdates(registration, { walking, offer }, container = navigator.serviceWorker) {
  /** The worker last offered, so one version is offered once however many events name it. */
  let offered = null;
  /** True once this page asked a worker to take over: only then does a change of controller reload it. */
  let asked = false;
  let reloading = false;
  /** A page already controlled when watching starts is on a version: a later change of controller is a new one. */
  const onVersion = Boolean(container.controller);

  /** Offer the waiting worker, now or when the walk under way ends. */
  const offerWhenIdle = (worker) => {
    if (worker === offered) return;
    offered = worker;
    whenIdle(walking, () => {
      // A newer version may have replaced this one while the walk ran: offer what waits now.
      if (offered !== worker || !registration.waiting) return;
      offer(() => {
        asked = true;
        // Another tab's tap may have switched versions since the offer: then only the reload is left.
        if (registration.waiting) registration.waiting.postMessage(SKIP_WAITING);
        else location.reload();
      });
    });
  };

  /** A worker that has installed while this page is controlled is a new version, not the first install. */
  const watchInstalling = (worker) => {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && container.controller) offerWhenIdle(worker);
    });
  };

  if (registration.waiting && container.controller) offerWhenIdle(registration.waiting);
  watchInstalling(registration.installing);
  registration.addEventListener("updatefound", () => watchInstalling(registration.installing));

  container.addEventListener("controllerchange", () => {
    // The first install's claim changes the controller too: nothing to reload. This page reloads
    // only for a tap, and never in the middle of a walk.
    if (reloading || (!asked && !onVersion)) return;
    if (asked) {
      reloading = true;
      whenIdle(walking, () => location.reload());
      return;
    }
    // Another tab's tap: the old shell cache is gone, so this page's next screen would come from
    // the new version. It is offered the reload (between walks) instead of mixing the two.
    whenIdle(walking, () => offer(() => {
      reloading = true;
      location.reload();
    }));
  });

  // Browsers look for a new worker on navigations; an app kept open for days has none, so it looks when shown.
  let lastCheck = Date.now();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || Date.now() - lastCheck < UPDATE_CHECK_MS) return;
    lastCheck = Date.now();
    registration.update().catch(() => {});
  });
}

/**
 * Run `then` once no walk is running: at once, or at the first look after the walk ends.
 * @param {() => boolean} walking
 * @param {() => void} then
 */
function whenIdle(walking, then) {
  if (walking()) setTimeout(() => whenIdle(walking, then), WALK_CHECK_MS);
  else then();
}
