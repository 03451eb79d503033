// The review page: every row is built with textContent and properties, never with HTML text, because captions
// and file names are untrusted (a model's words, any file's name). The data is JSON in a non-executing script
// element, parsed once; rows are added a page at a time as the end of the table scrolls into view, so a page of
// 10 000 images keeps only what has been looked at in the document.
(function () {
  'use strict';
  var PAGE = 100;
  var items = JSON.parse(document.getElementById('vlm-data').textContent);
  var rowsBody = document.getElementById('rows');
  var more = document.getElementById('more');
  var search = document.getElementById('search');
  var statusSelect = document.getElementById('status');
  var count = document.getElementById('count');
  var headers = document.querySelectorAll('th[data-sort]');
  var state = { status: '', q: '', sort: 'file', desc: false, compare: false };
  var shown = [];
  var rendered = 0;
  var rowOf = row;

  // An image captioned by several models has a row per model; its thumbnail is written once, with the first.
  var thumbs = {};
  var models = [];
  items.forEach(function (item, index) {
    item.index = index;
    item.haystack = [item.file, item.caption, item.model, item.message].join('\n').toLowerCase();
    if (item.thumb && !thumbs.hasOwnProperty(item.file)) { thumbs[item.file] = item; }
    if (item.model && models.indexOf(item.model) < 0) { models.push(item.model); }
  });

  // With several models, "Models side by side" shows a row per image and a column per model.
  var compareBox = document.getElementById('compare');
  var headRow = document.querySelector('thead tr');
  var plainHead = Array.prototype.slice.call(headRow.children);
  if (models.length > 1) {
    compareBox.parentNode.hidden = false;
    compareBox.addEventListener('change', function () { state.compare = compareBox.checked; writeHash(); apply(); });
  }

  // The status filter lists the statuses present, with their counts.
  var totals = {};
  items.forEach(function (item) { totals[item.status] = (totals[item.status] || 0) + 1; });
  addOption('', 'All (' + items.length + ')');
  Object.keys(totals).sort().forEach(function (status) { addOption(status, status + ' (' + totals[status] + ')'); });
  var totalsLine = document.getElementById('totals');
  Object.keys(totals).sort().forEach(function (status) {
    var span = document.createElement('span');
    span.className = 'status ' + status;
    span.textContent = status + ': ' + totals[status];
    totalsLine.appendChild(span);
  });

  function addOption(value, text) {
    var option = document.createElement('option');
    option.value = value;
    option.textContent = text;
    statusSelect.appendChild(option);
  }

  // The state lives in the address (#status=Failed&q=dog&sort=tokens&desc=1), so a view can be bookmarked or shared.
  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    state.status = params.get('status') || '';
    state.q = params.get('q') || '';
    state.sort = keys.hasOwnProperty(params.get('sort')) ? params.get('sort') : 'file';
    state.desc = params.get('desc') === '1';
    state.compare = models.length > 1 && params.get('compare') === '1';
    compareBox.checked = state.compare;
    statusSelect.value = totals.hasOwnProperty(state.status) ? state.status : '';
    search.value = state.q;
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (state.status) { params.set('status', state.status); }
    if (state.q) { params.set('q', state.q); }
    if (state.sort !== 'file') { params.set('sort', state.sort); }
    if (state.desc) { params.set('desc', '1'); }
    if (state.compare) { params.set('compare', '1'); }
    try { history.replaceState(null, '', '#' + params.toString()); } catch (e) { /* some file:// contexts refuse */ }
  }

  var keys = {
    file: function (item) { return item.file.toLowerCase(); },
    status: function (item) { return item.status; },
    model: function (item) { return (item.model || '').toLowerCase(); },
    tokens: function (item) { return item.tokens == null ? -1 : item.tokens; },
    seconds: function (item) { return item.seconds == null ? -1 : item.seconds; },
    length: function (item) { return (item.caption || '').length; }
  };

  function compare(a, b) {
    var key = keys[state.sort];
    var x = key(a), y = key(b);
    var order = x < y ? -1 : x > y ? 1 : a.index - b.index;
    return state.desc ? -order : order;
  }

  function apply() {
    var needle = state.q.toLowerCase();
    shown = items.filter(function (item) {
      return (!state.status || item.status === state.status) && (!needle || item.haystack.indexOf(needle) >= 0);
    });
    shown.sort(compare);
    rowsBody.textContent = '';
    rendered = 0;
    rowOf = state.compare ? groupRow : row;
    headRow.textContent = '';
    if (state.compare) {
      shown = byImage(shown);
      var image = document.createElement('th');
      image.colSpan = 2;
      image.textContent = 'Image';
      headRow.appendChild(image);
      models.forEach(function (model) {
        var th = document.createElement('th');
        th.className = 'model-column';
        th.textContent = model;
        headRow.appendChild(th);
      });
    } else {
      plainHead.forEach(function (th) { headRow.appendChild(th); });
    }
    headers.forEach(function (th) {
      th.setAttribute('aria-sort', th.getAttribute('data-sort') === state.sort ? (state.desc ? 'descending' : 'ascending') : 'none');
    });
    count.textContent = state.compare ? 'Showing ' + shown.length + ' images, ' + models.length + ' models side by side' : 'Showing ' + shown.length + ' of ' + items.length;
    document.body.setAttribute('data-shown', String(shown.length));
    renderMore();
  }

  function renderMore() {
    var end = Math.min(rendered + PAGE, shown.length);
    var fragment = document.createDocumentFragment();
    for (var i = rendered; i < end; i++) { fragment.appendChild(rowOf(shown[i])); }
    rowsBody.appendChild(fragment);
    rendered = end;
    more.textContent = rendered < shown.length ? (shown.length - rendered) + ' more below' : '';
    // Short rows can leave the end in view, which the observer does not report again: keep filling.
    if (rendered < shown.length && more.getBoundingClientRect().top < window.innerHeight + 600) {
      requestAnimationFrame(renderMore);
    }
  }

  function cell(tr, className, text) {
    var td = document.createElement('td');
    td.className = className;
    if (text != null) { td.textContent = String(text); }
    tr.appendChild(td);
    return td;
  }

  // The rows that matched, gathered per image in the order the first of each came.
  function byImage(list) {
    var groups = [];
    var at = {};
    list.forEach(function (item) {
      if (!at.hasOwnProperty(item.file)) { at[item.file] = groups.length; groups.push({ first: item, byModel: {} }); }
      var group = groups[at[item.file]];
      if (!group.byModel.hasOwnProperty(item.model)) { group.byModel[item.model] = item; }
    });
    return groups;
  }

  function groupRow(group) {
    var tr = document.createElement('tr');
    tr.className = 'item group';
    imageCells(tr, group.first);
    models.forEach(function (model) {
      var item = group.byModel[model];
      var td = cell(tr, 'caption model-cell', null);
      td.setAttribute('data-model', model);
      if (!item) {
        td.className += ' absent';
        td.textContent = '\u2014';
        return;
      }
      var text = document.createElement('div');
      text.textContent = item.caption || item.message || '';
      td.appendChild(text);
      var status = document.createElement('span');
      status.className = 'status ' + item.status;
      status.textContent = item.status;
      status.title = item.message || '';
      td.appendChild(status);
    });
    return tr;
  }

  function row(item) {
    var tr = document.createElement('tr');
    tr.className = 'item';
    tr.setAttribute('data-status', item.status);
    imageCells(tr, item);
    cell(tr, item.message && !item.caption ? 'caption error' : 'caption', item.caption || item.message || '');
    var status = cell(tr, 'status ' + item.status, item.status);
    status.title = item.message || '';
    cell(tr, 'model', item.model || '');
    cell(tr, 'num tokens', item.tokens == null ? '' : item.tokens);
    cell(tr, 'num seconds', item.seconds == null ? '' : item.seconds.toFixed(1));
    return tr;
  }

  function imageCells(tr, item) {
    var thumb = cell(tr, 'thumb', null);
    var source = item.thumb ? item : thumbs[item.file];
    if (source) {
      var img = document.createElement('img');
      img.loading = 'lazy';
      img.decoding = 'async';
      img.alt = '';
      if (source.thumbWidth) { img.width = source.thumbWidth; img.height = source.thumbHeight; }
      img.src = source.thumb;
      thumb.appendChild(img);
    } else {
      var none = document.createElement('span');
      none.className = 'none';
      none.textContent = 'no preview';
      thumb.appendChild(none);
    }
    var file = cell(tr, 'file', null);
    var link = document.createElement('a');
    link.href = item.href;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = item.file;
    file.appendChild(link);
    if (item.width) {
      var size = document.createElement('div');
      size.className = 'size';
      size.textContent = item.width + '\u00d7' + item.height;
      file.appendChild(size);
    }
  }

  var typing = 0;
  search.addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(function () { state.q = search.value; writeHash(); apply(); }, 150);
  });
  statusSelect.addEventListener('change', function () { state.status = statusSelect.value; writeHash(); apply(); });
  headers.forEach(function (th) {
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-sort');
      state.desc = state.sort === key ? !state.desc : false;
      state.sort = key;
      writeHash();
      apply();
    });
  });
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  if ('IntersectionObserver' in window) {
    // The end of the table coming near the screen adds the next page.
    new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && rendered < shown.length) { renderMore(); }
    }, { rootMargin: '600px' }).observe(more);
  } else {
    more.addEventListener('click', renderMore);
  }

  readHash();
  apply();
  document.body.setAttribute('data-ready', '1');
})();
