import { saveToken, savedToken } from './api-client.js';
import { byId } from './dom.js';
import { ServerView } from './server-view.js';
import { TryView } from './try-view.js';

/** Wires the two views to the address bar (#try, #server) so Back and bookmarks work. */
function start(): void {
  const tryView = new TryView();
  const serverView = new ServerView();
  const views = {
    try: { section: byId('view-try', HTMLElement), link: byId('nav-try', HTMLAnchorElement) },
    server: { section: byId('view-server', HTMLElement), link: byId('nav-server', HTMLAnchorElement) },
  };
  const route = (): void => {
    const current = location.hash === '#server' ? 'server' : 'try';
    for (const [name, view] of Object.entries(views)) {
      view.section.hidden = name !== current;
      if (name === current) view.link.setAttribute('aria-current', 'page');
      else view.link.removeAttribute('aria-current');
    }
    if (current === 'server') serverView.show();
    else serverView.hide();
  };
  window.addEventListener('hashchange', () => {
    route();
    byId('main', HTMLElement).focus();
  });
  route();

  const token = byId('token', HTMLInputElement);
  token.value = savedToken();
  byId('token-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    saveToken(token.value.trim());
    byId('token-box', HTMLDetailsElement).open = false;
    void tryView.load();
    if (location.hash === '#server') void serverView.refresh();
  });
  byId('token-forget', HTMLButtonElement).addEventListener('click', () => {
    token.value = '';
    saveToken('');
  });
  void tryView.load();
}

start();
