"""The day/week simulator: the real services (checkout, planner, dispatch, watchdog, learner,
complaints) driven on a simulated clock by simulated consumers, vans and staff (``flask simulate``).

``world`` holds what the application does not know (demand, the roads' true speeds), ``engine``
the event loop, ``kpi`` what is measured. No Flask views here."""
