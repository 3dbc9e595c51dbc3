package main

// Example runs the program, which README.md shows as its first example.
func Example() {
	main()
	// Output:
	// api serving on 127.0.0.1:8080
	// engine stopped: <nil>
}
