// A minimal collections app of 2019: blockstack@20.0.0-alpha.5 UserSession and
// blockstack-collections@0.1.8 Contact, unchanged. The e2e tests drive it through
// `window.alpha` (sign in, save, list, get, refresh the collection keys).
/* global blockstack, blockstackCollections */
(function () {
  const { UserSession, AppConfig } = blockstack;
  const { Contact } = blockstackCollections;
  const ready = (async () => {
    const cfg = await (await fetch('/config.json')).json();
    document.title = cfg.name;
    document.getElementById('title').textContent = cfg.name;
    // The authenticator is Cairn's page; the app's "manifest" is its config.json (name).
    const appConfig = new AppConfig(cfg.scopes, location.origin, '/', '/config.json', null, cfg.authenticator);
    const userSession = new UserSession({ appConfig });
    const state = document.getElementById('state');
    if (userSession.isSignInPending()) {
      try {
        await userSession.handlePendingSignIn();
        history.replaceState(null, '', '/');
      } catch (e) {
        state.textContent = `Sign-in failed: ${e.message}`;
        return { cfg, userSession };
      }
    }
    state.textContent = userSession.isUserSignedIn() ? 'Signed in' : 'Signed out';
    return { cfg, userSession };
  })();

  window.alpha = {
    ready,
    async signIn() {
      const { cfg, userSession } = await ready;
      // What redirectToSignIn does, minus the blockstack: protocol-handler probe.
      const request = userSession.makeAuthRequest();
      location.href = `${cfg.authenticator}?authRequest=${request}`;
    },
    async signedIn() {
      const { userSession } = await ready;
      return userSession.isUserSignedIn();
    },
    async save(attrs) {
      const { userSession } = await ready;
      return new Contact(attrs).save(userSession);
    },
    async list() {
      const { userSession } = await ready;
      const ids = [];
      await Contact.list((id) => {
        ids.push(id);
        return true;
      }, userSession);
      return ids.sort();
    },
    async get(id) {
      const { userSession } = await ready;
      const c = await Contact.get(id, userSession);
      return c.attrs;
    },
    async config() {
      const { userSession } = await ready;
      return userSession.getCollectionConfigs('contact');
    },
    /** Forgets the cached collection config, so the next call reads .collections.keys again. */
    async refreshKeys() {
      const { userSession } = await ready;
      const data = userSession.store.getSessionData();
      delete data.userData.collectionConfigs;
      userSession.store.setSessionData(data);
    },
  };
})();
