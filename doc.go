// Package dependency runs a graph of workers inside one engine.
package dependency
