package introspect

import (
	"slices"
	"time"

	"github.com/seedworks/dependency"
)

// rowWidth is the width, in pixels, past which the parts of a graph that
// no arrow joins go on the next row, so that an engine of many small parts
// (a partial picture's, above all) is drawn as a block, not a strip.
const rowWidth = 1200

// sheet is the drawing of one engine's manifolds, from its own origin.
type sheet struct {
	w, h   float64
	boxes  []box
	arrows []arrow
}

func (s *sheet) translate(dx, dy float64) {
	translateBoxes(s.boxes, dx, dy)
	translateArrows(s.arrows, dx, dy)
}

func translateBoxes(boxes []box, dx, dy float64) {
	for i := range boxes {
		boxes[i].x += dx
		boxes[i].y += dy
	}
}

func translateArrows(arrows []arrow, dx, dy float64) {
	for _, a := range arrows {
		for i := range a.points {
			a.points[i].x += dx
			a.points[i].y += dy
		}
	}
}

// layOut draws the manifolds of report that sel keeps (all of them for a
// nil sel), each nested engine first, so that its box is big enough. Each
// part of the graph that no arrow joins to the rest is laid out alone, and
// the parts are set in rows, largest first.
func layOut(report dependency.Report, sel *selection, path []string, depth int, now time.Time) *sheet {
	names, absent := sel.keep(report)
	index := make(map[string]int, len(names)+len(absent))
	for i, name := range names {
		index[name] = i
	}
	for _, name := range absent {
		index[name] = len(names)
		names = append(names, name)
	}

	s := &sheet{boxes: make([]box, len(names))}
	inner := make([]*sheet, len(names))
	for i, name := range names {
		m, installed := report.Manifolds[name]
		s.boxes[i] = newBox(append(slices.Clip(path), name), m, !installed, depth, now)
		if m.Engine != nil {
			inner[i] = layOut(*m.Engine, sel.nested(name), s.boxes[i].path, depth+1, now)
			s.boxes[i].holdEngine(inner[i], *m.Engine, sel.nested(name) != nil)
		}
	}
	var edges []edge
	var arrows []arrow
	for i, name := range names {
		m := report.Manifolds[name]
		joined := make(map[int]int) // the arrow from each box joined to this one
		for input, flag := range links(m) {
			from, drawn := index[input]
			if !drawn {
				continue // left out of a partial drawing
			}
			if k, twice := joined[from]; twice {
				arrows[k].flag = arrows[k].flag || flag // one arrow, a flag's if either is
				continue
			}
			joined[from] = len(arrows)
			edges = append(edges, edge{from, i})
			arrows = append(arrows, arrow{
				from:    s.boxes[from].path,
				to:      s.boxes[i].path,
				missing: s.boxes[from].absent || !flag && slices.Contains(m.Missing, input),
				flag:    flag,
				depth:   depth,
			})
		}
	}
	var rows shelf
	for _, part := range components(len(names), edges) {
		s.addPart(part, edges, arrows, &rows)
	}
	s.w, s.h = rows.width, rows.height()
	for i, in := range inner {
		if in != nil {
			s.addNested(i, in)
		}
	}
	return s
}

// addPart lays out the boxes numbered in part, which no edge joins to the
// others, with the arrows of their edges, and puts them in the next place
// on the rows.
func (s *sheet) addPart(part []int, edges []edge, arrows []arrow, rows *shelf) {
	local := make(map[int]int, len(part))
	boxes := make([]box, len(part))
	widths := make([]float64, len(part))
	for i, v := range part {
		local[v] = i
		boxes[i] = s.boxes[v]
		widths[i] = boxes[i].w
	}
	var partEdges []edge
	var partArrows []arrow
	for i, e := range edges {
		if from, ok := local[e.from]; ok {
			partEdges = append(partEdges, edge{from, local[e.to]})
			partArrows = append(partArrows, arrows[i])
		}
	}
	a := arrange(widths, partEdges)
	w, h, bands := placeBoxes(a, boxes)
	partArrows = routeArrows(a, partEdges, partArrows, boxes, bands)
	dx, dy := rows.place(w, h)
	translateBoxes(boxes, dx, dy)
	translateArrows(partArrows, dx, dy)
	for i, v := range part {
		s.boxes[v] = boxes[i]
	}
	s.arrows = append(s.arrows, partArrows...)
}

// components splits vertices 0 to n-1 into the parts that edges join,
// taken either way: each part's vertices in order, the parts largest
// first, equal sizes in the order of their first vertex.
func components(n int, edges []edge) [][]int {
	parent := make([]int, n)
	for v := range parent {
		parent[v] = v
	}
	find := func(v int) int {
		for parent[v] != v {
			parent[v] = parent[parent[v]]
			v = parent[v]
		}
		return v
	}
	for _, e := range edges {
		if a, b := find(e.from), find(e.to); a != b {
			parent[max(a, b)] = min(a, b) // a part's root is its first vertex
		}
	}
	byRoot := make([][]int, n)
	for v := range n {
		root := find(v)
		byRoot[root] = append(byRoot[root], v)
	}
	var parts [][]int
	for _, part := range byRoot {
		if len(part) > 0 {
			parts = append(parts, part)
		}
	}
	slices.SortStableFunc(parts, func(a, b []int) int { return len(b) - len(a) })
	return parts
}

// shelf sets rectangles left to right in rows no wider than rowWidth
// (unless one rectangle is wider alone), each row below the last.
type shelf struct {
	x, y      float64 // where the next rectangle goes
	rowHeight float64 // of the row being filled
	width     float64 // of the widest row so far
}

// place returns where the top left corner of a w by h rectangle goes.
func (s *shelf) place(w, h float64) (x, y float64) {
	if s.x > 0 && s.x+w > rowWidth {
		s.x, s.y, s.rowHeight = 0, s.y+s.rowHeight+layerGap, 0
	}
	x, y = s.x, s.y
	s.x += w + 2*boxGap
	s.rowHeight = max(s.rowHeight, h)
	s.width = max(s.width, x+w)
	return x, y
}

func (s *shelf) height() float64 { return s.y + s.rowHeight }

// placeBoxes puts each box in its layer's band, centred on its vertex, and
// returns the size of what it drew and the bands' tops and bottoms.
func placeBoxes(a *arrangement, boxes []box) (w, h float64, bands []band) {
	bands = make([]band, len(a.layers))
	top := 0.0
	for l, layer := range a.layers {
		height := 0.0
		for _, v := range layer {
			if !a.isPoint(v) {
				height = max(height, boxes[v].h)
			}
		}
		bands[l] = band{top, top + height}
		top += height + layerGap
	}
	for v := range boxes {
		b := &boxes[v]
		band := bands[a.layer[v]]
		b.x = a.x[v] - b.w/2
		b.y = band.top + (band.bottom-band.top-b.h)/2
		w = max(w, b.x+b.w)
		h = max(h, b.y+b.h)
	}
	for v := a.n; v < len(a.x); v++ {
		w = max(w, a.x[v])
	}
	return w, h, bands
}

type band struct{ top, bottom float64 }

// addNested moves the nested engine's sheet into the box at i, below its
// text, and appends its boxes and arrows.
func (s *sheet) addNested(i int, in *sheet) {
	b := s.boxes[i]
	in.translate(b.x+(b.w-in.w)/2, b.y+padY+float64(len(b.lines))*lineHeight+padY)
	s.boxes = append(s.boxes, in.boxes...)
	s.arrows = append(s.arrows, in.arrows...)
}

// routeArrows draws each edge from the bottom of its input's box down to
// the top of its dependent's: straight down out of the input's band,
// straight through each band it crosses at its point there, and straight
// down into the dependent's band, with straight lines between the bands,
// where no box is. Each box spreads the arrows leaving and entering it
// along its sides, in the order of their other ends, so that they do not
// cross there.
func routeArrows(a *arrangement, edges []edge, arrows []arrow, boxes []box, bands []band) []arrow {
	outs := make([][]int, a.n) // edge numbers, by input
	ins := make([][]int, a.n)  // edge numbers, by dependent
	for i, e := range edges {
		if !a.back[i] {
			outs[e.from] = append(outs[e.from], i)
			ins[e.to] = append(ins[e.to], i)
		}
	}
	start := make([]float64, len(edges))
	end := make([]float64, len(edges))
	for v := range a.n {
		spread(outs[v], boxes[v], start, func(i int) float64 { return a.x[a.next(i, edges)] })
		spread(ins[v], boxes[v], end, func(i int) float64 { return a.x[a.prev(i, edges)] })
	}
	for i, e := range edges {
		from, to := boxes[e.from], boxes[e.to]
		if a.back[i] {
			arrows[i].back = true
			arrows[i].points = []point{{from.x + from.w/2, from.y}, {to.x + to.w/2, to.y + to.h}}
			continue
		}
		points := []point{{start[i], from.y + from.h}, {start[i], bands[a.layer[e.from]].bottom}}
		for _, p := range a.via[i] {
			band := bands[a.layer[p]]
			points = append(points, point{a.x[p], band.top}, point{a.x[p], band.bottom})
		}
		points = append(points, point{end[i], bands[a.layer[e.to]].top}, point{end[i], to.y})
		arrows[i].points = dropFlat(points)
	}
	return arrows
}

// next is the vertex that edge i goes to from its input: its first point,
// or its dependent.
func (a *arrangement) next(i int, edges []edge) int {
	if len(a.via[i]) > 0 {
		return a.via[i][0]
	}
	return edges[i].to
}

// prev is the vertex that edge i comes from into its dependent.
func (a *arrangement) prev(i int, edges []edge) int {
	if len(a.via[i]) > 0 {
		return a.via[i][len(a.via[i])-1]
	}
	return edges[i].from
}

// spread sets at[i], for each edge i of those, to a place along b's side,
// evenly spaced and in the order of other(i).
func spread(those []int, b box, at []float64, other func(i int) float64) {
	slices.SortStableFunc(those, func(i, j int) int {
		oi, oj := other(i), other(j)
		switch {
		case oi < oj:
			return -1
		case oi > oj:
			return 1
		}
		return 0
	})
	for k, i := range those {
		at[i] = b.x + b.w*float64(k+1)/float64(len(those)+1)
	}
}

// dropFlat removes each point at the same height as the one before, which
// comes where a box fills its band: every segment left goes down.
func dropFlat(points []point) []point {
	kept := points[:1]
	for _, p := range points[1:] {
		if p.y > kept[len(kept)-1].y {
			kept = append(kept, p)
		}
	}
	return kept
}
