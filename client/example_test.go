package client_test

import (
	"fmt"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
)

func ExampleClient_AuthURL() {
	c, err := client.New(client.Config{
		ClientID: "cid", RedirectURI: "http://127.0.0.1:8000/exchange",
		ConnectOrigin: "http://127.0.0.1:4000", Mode: client.ModeTest,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	u, err := c.AuthURL(client.AuthURLOptions{Scope: []string{client.Required("read_vehicle_info"), "read_vin"}, State: "s1"})
	fmt.Println(u, err)
	// Output: http://127.0.0.1:4000/oauth/authorize?response_type=code&client_id=cid&approval_prompt=auto&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fexchange&scope=required%3Aread_vehicle_info%20read_vin&state=s1&mode=test <nil>
}
