from tests.support.net import wait_for
from tests.support.peers import HttpPeer


def test_it_checks_a_new_http_monitor_and_reports_it_up(api, alice):
    with HttpPeer() as peer:
        monitor = api.create_monitor(alice, name="Website", type="http", target=peer.url + "/", interval=10)
        assert monitor["status"] == "pending"
        seen = wait_for(lambda: api.get(f"/api/monitors/{monitor['id']}", alice).json()["status"] == "up",
                        message="monitor up")
        assert seen
        body = api.get(f"/api/monitors/{monitor['id']}", alice).json()
        assert body["location_status"] == {"local": "up"}
        assert body["uptime_percentage"] == "100.00"
