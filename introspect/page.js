// The page asks for graph.svg each second and puts the picture in place of
// the last one, without reloading; when the server answers that the
// picture has not changed (304, by its ETag), it keeps the one it shows.
// Between pictures it counts down to each pending restart, by the server's
// clock as the last picture gave it.
'use strict';

(function () {
	const refreshEvery = 1000; // ms between pictures
	const graph = document.getElementById('graph');
	const status = document.getElementById('status');
	let skew = 0; // the server's clock minus this browser's, in ms
	let lastSeen = null; // when the server last answered
	let tag = null; // the ETag of the picture shown

	async function refresh() {
		try {
			const headers = tag === null ? {} : { 'If-None-Match': tag };
			const response = await fetch('graph.svg', { cache: 'no-store', headers: headers });
			if (response.status === 304) { // the picture shown is still true
				lastSeen = new Date();
				graph.classList.remove('stale');
				showEngine(graph.firstElementChild.dataset);
				setTimeout(refresh, refreshEvery);
				return;
			}
			if (!response.ok) {
				throw new Error('the server answered ' + response.status + ' ' + response.statusText);
			}
			const text = await response.text();
			const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
			if (svg.namespaceURI !== 'http://www.w3.org/2000/svg') {
				throw new Error('the server sent something other than a picture');
			}
			skew = Date.parse(svg.dataset.now) - Date.now();
			lastSeen = new Date();
			graph.replaceChildren(document.importNode(svg, true));
			tag = response.headers.get('ETag');
			graph.classList.remove('stale');
			showEngine(svg.dataset);
			countDown();
		} catch (err) {
			showGone(err);
		}
		setTimeout(refresh, refreshEvery);
	}

	function showEngine(data) {
		const at = ' (as of ' + lastSeen.toLocaleTimeString() + ')';
		let text;
		switch (data.state) {
		case 'started':
			text = 'The engine is running' + drawnNote(data) + '.';
			break;
		case 'stopping':
			text = 'The engine is stopping' + errorNote(data) + '.';
			break;
		case 'stopped':
			text = 'The engine has stopped' + errorNote(data) + '.';
			break;
		default: // a state this page does not know, from another implementation
			text = "The engine's state is unknown" + errorNote(data) + '.';
		}
		setStatus(data.state, text + at);
	}

	function drawnNote(data) {
		const total = Number(data.manifolds), drawn = Number(data.drawn);
		if (drawn < total) {
			return ': ' + drawn + ' of its ' + total + ' manifolds are drawn, as the picture says';
		}
		return '';
	}

	function errorNote(data) {
		return data.error ? ', with the error: ' + data.error : '';
	}

	function showGone(err) {
		graph.classList.add('stale');
		const since = lastSeen ? 'since ' + lastSeen.toLocaleTimeString() : 'yet';
		setStatus('gone', 'The server has not answered ' + since + ' (' + err.message +
			'): the engine or its program may be gone. Asking again each second; the picture below is the last one.');
	}

	function setStatus(state, text) {
		status.className = state;
		status.textContent = text;
	}

	// untilText says how long until a start is due, as the server does.
	function untilText(ms) {
		if (ms <= 0) {
			return 'now';
		}
		if (ms < 10000) {
			return 'in ' + (ms / 1000).toFixed(1) + 's';
		}
		const s = Math.floor(ms / 1000);
		const two = (big, bigUnit, small, smallUnit) =>
			'in ' + big + bigUnit + String(small).padStart(2, '0') + smallUnit;
		if (s < 60) {
			return 'in ' + s + 's';
		}
		if (s < 100 * 60) {
			return two(Math.floor(s / 60), 'm', s % 60, 's');
		}
		if (s < 100 * 3600) {
			return two(Math.floor(s / 3600), 'h', Math.floor(s / 60) % 60, 'm');
		}
		if (s < 100 * 86400) {
			return two(Math.floor(s / 86400), 'd', Math.floor(s / 3600) % 24, 'h');
		}
		return 'in >99d';
	}

	function countDown() {
		if (graph.classList.contains('stale')) {
			return;
		}
		const now = Date.now() + skew;
		for (const text of graph.querySelectorAll('text[data-due]')) {
			text.textContent = text.dataset.verb + ' ' + untilText(Date.parse(text.dataset.due) - now);
		}
	}

	setInterval(countDown, 100);
	refresh();
})();
