package introspect

import (
	"cmp"
	"math"
	"slices"
)

// edge runs from an input (from) to its dependent (to), both vertex numbers.
type edge struct{ from, to int }

// Gaps between neighbours in a layer, in pixels: boxes keep well apart, and
// the points where arrows cross a layer keep a little apart from each other
// and from boxes.
const (
	boxGap   = 24
	pointGap = 8
	sideGap  = 14
)

// arrangement places the vertices of a directed graph in layers, each
// vertex below all of its inputs, and sets each one's horizontal centre.
// Vertices 0 to n-1 are the graph's own; an edge that spans several layers
// passes through a point vertex in each layer between, numbered from n up,
// so that the drawing can keep it clear of the boxes in those layers.
type arrangement struct {
	n      int       // the graph's own vertices
	layer  []int     // of each vertex
	width  []float64 // of each vertex; 0 for points
	x      []float64 // the centre of each vertex
	layers [][]int   // the vertices of each layer, left to right
	pos    []int     // each vertex's index in its layer

	up, down [][]int // each vertex's neighbours in the layers above and below

	via  [][]int // for each edge, the points it passes, top to bottom
	back []bool  // for each edge: it closes a cycle, so its dependent may not be below it
}

// arrange lays out the graph of len(widths) vertices and the given edges:
// layers by the longest path from the roots, order within each layer by
// the barycentre of neighbours over a few sweeps, and horizontal centres as
// near their neighbours' as the order and gaps allow. Equal input gives an
// equal arrangement. A graph with cycles is laid out too, with the edges
// that close them marked back.
func arrange(widths []float64, edges []edge) *arrangement {
	a := &arrangement{n: len(widths)}
	a.assignLayers(edges)
	a.addPoints(widths, edges)
	a.order()
	a.place()
	return a
}

// assignLayers puts each vertex one layer below its lowest input, taking
// vertices in topological order (Kahn's algorithm). When only cycles are
// left, it takes the lowest-numbered vertex not yet placed and marks the
// edges into it from vertices not yet placed as back edges.
func (a *arrangement) assignLayers(edges []edge) {
	a.layer = make([]int, a.n)
	a.back = make([]bool, len(edges))
	waiting := make([]int, a.n) // inputs not yet placed
	out := make([][]int, a.n)   // edge numbers, by input
	for i, e := range edges {
		if e.from == e.to {
			a.back[i] = true
			continue
		}
		out[e.from] = append(out[e.from], i)
		waiting[e.to]++
	}
	placed := make([]bool, a.n)
	queue := make([]int, 0, a.n)
	for v := range a.n {
		if waiting[v] == 0 {
			queue = append(queue, v)
		}
	}
	next := 0 // every vertex below it is placed or queued
	for count := 0; count < a.n; count++ {
		if len(queue) == 0 {
			for placed[next] {
				next++
			}
			queue = append(queue, next)
		}
		v := queue[0]
		queue = queue[1:]
		placed[v] = true
		for _, i := range out[v] {
			to := edges[i].to
			if placed[to] {
				a.back[i] = true
				continue
			}
			a.layer[to] = max(a.layer[to], a.layer[v]+1)
			if waiting[to]--; waiting[to] == 0 {
				queue = append(queue, to)
			}
		}
	}
}

// addPoints adds a point vertex in each layer that an edge crosses, and
// links neighbours in adjacent layers. Back edges take no part in the
// layout.
func (a *arrangement) addPoints(widths []float64, edges []edge) {
	a.width = slices.Clone(widths)
	a.via = make([][]int, len(edges))
	a.up = make([][]int, a.n)
	a.down = make([][]int, a.n)
	for i, e := range edges {
		if a.back[i] {
			continue
		}
		prev := e.from
		for l := a.layer[e.from] + 1; l < a.layer[e.to]; l++ {
			p := len(a.layer)
			a.layer = append(a.layer, l)
			a.width = append(a.width, 0)
			a.up = append(a.up, nil)
			a.down = append(a.down, nil)
			a.via[i] = append(a.via[i], p)
			a.link(prev, p)
			prev = p
		}
		a.link(prev, e.to)
	}
}

func (a *arrangement) link(above, below int) {
	a.down[above] = append(a.down[above], below)
	a.up[below] = append(a.up[below], above)
}

// isPoint reports whether v is a point an edge passes rather than a box.
func (a *arrangement) isPoint(v int) bool { return v >= a.n }

// sweeps is how many rounds of barycentre ordering run, each a sweep down
// and a sweep up. Four settle the graphs of agents; more rarely help.
const sweeps = 4

// order sorts each layer by the barycentre of each vertex's neighbours in
// the layer just swept, and keeps the order with the fewest crossings.
func (a *arrangement) order() {
	depth := 0
	for _, l := range a.layer {
		depth = max(depth, l+1)
	}
	a.layers = make([][]int, depth)
	for v, l := range a.layer {
		a.layers[l] = append(a.layers[l], v)
	}
	a.pos = make([]int, len(a.layer))
	a.renumber()
	best, fewest := a.saveOrder(), a.crossings()
	for range sweeps {
		for l := 1; l < depth; l++ {
			a.sortLayer(l, a.up)
		}
		for l := depth - 2; l >= 0; l-- {
			a.sortLayer(l, a.down)
		}
		if c := a.crossings(); c < fewest {
			best, fewest = a.saveOrder(), c
		}
	}
	a.layers = best
	a.renumber()
}

func (a *arrangement) renumber() {
	for _, layer := range a.layers {
		for i, v := range layer {
			a.pos[v] = i
		}
	}
}

func (a *arrangement) saveOrder() [][]int {
	saved := make([][]int, len(a.layers))
	for l, layer := range a.layers {
		saved[l] = slices.Clone(layer)
	}
	return saved
}

// sortLayer orders layer l by the mean relative position of each vertex's
// neighbours; a vertex without any keeps its own relative position. Ties
// keep their order, so the result depends only on the input.
func (a *arrangement) sortLayer(l int, neighbours [][]int) {
	layer := a.layers[l]
	type keyed struct {
		key float64
		pos int
		v   int
	}
	keys := make([]keyed, len(layer))
	for i, v := range layer {
		keys[i] = keyed{a.relative(v), i, v}
		if ns := neighbours[v]; len(ns) > 0 {
			sum := 0.0
			for _, u := range ns {
				sum += a.relative(u)
			}
			keys[i].key = sum / float64(len(ns))
		}
	}
	slices.SortFunc(keys, func(p, q keyed) int {
		return cmp.Or(cmp.Compare(p.key, q.key), cmp.Compare(p.pos, q.pos))
	})
	for i, k := range keys {
		layer[i] = k.v
		a.pos[k.v] = i
	}
}

// relative is v's position in its layer, scaled to (0, 1) so that layers of
// different sizes compare.
func (a *arrangement) relative(v int) float64 {
	return (float64(a.pos[v]) + 0.5) / float64(len(a.layers[a.layer[v]]))
}

// crossings counts the pairs of edge segments that cross between adjacent
// layers, counting the inversions of each layer pair with a Fenwick tree.
func (a *arrangement) crossings() int {
	total := 0
	var ends []int
	for l := 0; l+1 < len(a.layers); l++ {
		ends = ends[:0]
		for _, v := range a.layers[l] { // left to right
			first := len(ends)
			for _, w := range a.down[v] {
				ends = append(ends, a.pos[w])
			}
			slices.Sort(ends[first:])
		}
		tree := make([]int, len(a.layers[l+1])+1)
		for i, p := range ends {
			// Segments before this one that end to the right of p cross it.
			total += i - prefixCount(tree, p+1)
			for j := p + 1; j < len(tree); j += j & -j {
				tree[j]++
			}
		}
	}
	return total
}

// prefixCount sums the Fenwick tree's counts of positions below i.
func prefixCount(tree []int, i int) int {
	sum := 0
	for ; i > 0; i -= i & -i {
		sum += tree[i]
	}
	return sum
}

// placeRounds is how many rounds of placement run, each pulling every layer
// towards its neighbours above and then below.
const placeRounds = 3

// place sets each vertex's centre: first packed from the left, then moved
// layer by layer towards the mean centre of its neighbours, as far as the
// order and the gaps allow. At the end the leftmost edge is at 0.
func (a *arrangement) place() {
	a.x = make([]float64, len(a.layer))
	for _, layer := range a.layers {
		right := 0.0
		for i, v := range layer {
			if i > 0 {
				right += a.gap(layer[i-1], v)
			}
			a.x[v] = right + a.width[v]/2
			right += a.width[v]
		}
	}
	for range placeRounds {
		for l := 1; l < len(a.layers); l++ {
			a.placeLayer(l, a.up)
		}
		for l := len(a.layers) - 2; l >= 0; l-- {
			a.placeLayer(l, a.down)
		}
	}
	left := math.Inf(1)
	for v := range a.x {
		left = min(left, a.x[v]-a.width[v]/2)
	}
	for v := range a.x {
		a.x[v] -= left
	}
}

// gap is the least space between the facing sides of neighbours u and v.
func (a *arrangement) gap(u, v int) float64 {
	switch {
	case a.isPoint(u) && a.isPoint(v):
		return pointGap
	case a.isPoint(u) || a.isPoint(v):
		return sideGap
	}
	return boxGap
}

// placeLayer moves the vertices of layer l as near as it can to the mean
// centre of their neighbours, keeping their order and gaps; a vertex
// without neighbours wants to stay where it is. The nearest placement (the
// least sum of squared moves) is an isotonic regression: subtract from each
// wanted centre the least distance of its vertex from the layer's first,
// and the results must not decrease, which pool-adjacent-violators solves
// in linear time.
func (a *arrangement) placeLayer(l int, neighbours [][]int) {
	layer := a.layers[l]
	offset := make([]float64, len(layer))
	for i := 1; i < len(layer); i++ {
		u, v := layer[i-1], layer[i]
		offset[i] = offset[i-1] + a.width[u]/2 + a.gap(u, v) + a.width[v]/2
	}
	type block struct {
		sum   float64
		count int
	}
	blocks := make([]block, 0, len(layer))
	for i, v := range layer {
		want := a.x[v]
		if ns := neighbours[v]; len(ns) > 0 {
			want = 0
			for _, u := range ns {
				want += a.x[u]
			}
			want /= float64(len(ns))
		}
		b := block{want - offset[i], 1}
		// Pool with the blocks before while their mean is above this one's.
		for len(blocks) > 0 {
			prev := blocks[len(blocks)-1]
			if prev.sum*float64(b.count) <= b.sum*float64(prev.count) {
				break
			}
			b = block{prev.sum + b.sum, prev.count + b.count}
			blocks = blocks[:len(blocks)-1]
		}
		blocks = append(blocks, b)
	}
	i := 0
	for _, b := range blocks {
		mean := b.sum / float64(b.count)
		for range b.count {
			a.x[layer[i]] = mean + offset[i]
			i++
		}
	}
}
