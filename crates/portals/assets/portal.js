// The portals' only script: asks before a destructive form is sent. A form (or the button
// that sends it) with `data-confirm` asks its question first; without JavaScript the form
// is sent as it is.
document.addEventListener('submit', (event) => {
  const question = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
