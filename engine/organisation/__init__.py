"""The council's organisation: services, teams, people and their roles, absences, leavers'
open work and the staff import. One service (`directory`) makes every change, whoever asks:
the admin pages, the API, the staff import, the first-administrator command and the demo."""
