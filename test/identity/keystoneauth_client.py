"""A real Keystone client against fleetledger: python's keystoneauth1, as the dcmanager CLI uses it.

Usage: keystoneauth_client.py <auth_url> <user> <password> <project>
Prints one JSON line: the endpoint found for dcmanager (internal interface), the subcloud groups read through
it with the session's token, and the token's project and roles.
"""
import json
import sys

from keystoneauth1 import session
from keystoneauth1.identity import v3

auth_url, user, password, project = sys.argv[1:5]
auth = v3.Password(
    auth_url=auth_url,
    username=user,
    password=password,
    project_name=project,
    user_domain_name="Default",
    project_domain_name="Default",
)
sess = session.Session(auth=auth)
endpoint = sess.get_endpoint(service_type="dcmanager", interface="internal")
groups = sess.get(endpoint + "/subcloud-groups", headers={"Accept": "application/json"}).json()
access = auth.get_access(sess)
print(json.dumps({
    "endpoint": endpoint,
    "groups": [g["name"] for g in groups["subcloud_groups"]],
    "project": access.project_name,
    "roles": sorted(access.role_names),
    "expires": access.expires.isoformat(),
}))
