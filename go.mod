module github.com/seedworks/dependency

go 1.25

require (
	github.com/juju/errors v1.0.0
	github.com/juju/loggo v1.0.0
	go.uber.org/goleak v1.3.0
	gopkg.in/tomb.v2 v2.0.0-20161208151619-d5d1b5820637
)

require golang.org/x/net v0.38.0 // indirect
