module github.com/seedworks/dependency

go 1.25

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/juju/errors v1.0.0
	github.com/juju/loggo v1.0.0
	go.uber.org/goleak v1.3.0
	gopkg.in/tomb.v2 v2.0.0-20161208151619-d5d1b5820637
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	golang.org/x/net v0.38.0 // indirect
)
