"""The driver's phone page: today's route, stop by stop, with proof of delivery."""
