// A user's own project, for TestFromAnotherModule: it imports the public test helper from
// outside the sandbox's module. The replace directive points at this checkout.
module example.com/usermodule

go 1.26.8

require github.com/smartcar-sandbox/smartcar-sandbox v0.0.0

require (
	github.com/brianvoe/gofakeit/v7 v7.18.2 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace github.com/smartcar-sandbox/smartcar-sandbox => ../../../..
