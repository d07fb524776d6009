"""Forecasting as a kind of run: metrics, training windows and back-test splits, statsforecast
baselines and the pinball-loss objective (issue 14; design in the time-series notes)."""
