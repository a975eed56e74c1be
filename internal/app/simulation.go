package app

import (
	"fmt"
	"log/slog"

	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/simulator"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/webhooks"
)

// startBackground builds the webhook service and starts the simulator's ticker. Both run
// until stopBackground (called by Shutdown after the server has stopped taking requests).
// Zero settings (a Config not made by config.Parse) take the flag defaults.
func (a *App) startBackground(cfg config.Config, logger *slog.Logger) error {
	wh, err := webhooks.New(webhooks.Options{Store: a.Store, Now: a.Clock.Now, Logger: logger,
		MaxAttempts: cfg.WebhookAttempts, RetryBase: cfg.WebhookRetryBase, OnRecord: a.Metrics.WebhookDelivery})
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	speedup := cfg.SimSpeedup
	if speedup <= 0 {
		speedup = 60
	}
	sim, err := simulator.New(simulator.Options{Store: a.Store, Now: a.Clock.Now, Seed: int64(cfg.SimSeed), Speedup: speedup, Logger: logger})
	if err != nil {
		wh.Close()
		return err
	}
	a.Webhooks, a.Simulator = wh, sim
	sim.Start()
	return nil
}

// stopBackground stops the simulator first (it makes the changes webhooks deliver), then the
// webhook retries.
func (a *App) stopBackground() {
	if a.Simulator != nil {
		a.Simulator.Stop()
	}
	if a.Webhooks != nil {
		a.Webhooks.Close()
	}
}
