// A user's own project, for TestFromAnotherModule: it imports the public test helper from
// outside the sandbox's module. The test runs it from a copy whose replace directive points at
// the checkout, with the sandbox's go.sum.
module example.com/usermodule

go 1.26.8

require github.com/smartcar-sandbox/smartcar-sandbox v0.0.0

replace github.com/smartcar-sandbox/smartcar-sandbox => ../../../..
