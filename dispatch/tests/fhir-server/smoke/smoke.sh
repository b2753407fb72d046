#!/usr/bin/env bash
# Usage: smoke.sh [BASE]   — runs the transaction/search smoke test, prints "N passed, N failed"
set -u
B=${1:-http://127.0.0.1:8103/fhir/R4}; H='content-type: application/fhir+json'
D=$(cd "$(dirname "$0")" && pwd); pass=0; fail=0
check(){ if [ "$2" = "$3" ]; then pass=$((pass+1)); echo "ok   $1 ($2)"; else fail=$((fail+1)); echo "FAIL $1: got $2 want $3"; fi; }
j(){ python3 -c "import json,sys;d=json.load(open('$D/o.json'));print($1)"; }
s=$(curl -s -o $D/o.json -w '%{http_code}' -X POST -H "$H" --data @$D/bundle.json $B/); check "tx#1 status" $s 200
check "tx#1 entry statuses" "$(j "','.join(e['response']['status'] for e in d['entry'])")" "201,201,201,201,201,201"
PID=$(j "d['entry'][0]['response']['location'].split('/')[1]")
s=$(curl -s -o $D/o.json -w '%{http_code}' -X POST -H "$H" --data @$D/bundle.json $B/); check "tx#2 status" $s 200
check "tx#2 patient not re-created" "$(j "d['entry'][0]['response']['status']+' '+d['entry'][0]['response']['location'].split('/')[1]")" "200 $PID"
check "tx#2 Encounter.subject resolved" "$(curl -s $B/$(j "d['entry'][1]['response']['location']") | python3 -c 'import json,sys;print(json.load(sys.stdin)["subject"]["reference"])')" "Patient/$PID"
q(){ curl -s -o $D/o.json -w '%{http_code}' -G "$B/$1" "${@:2}"; }
s=$(q Patient --data-urlencode 'identifier=http://fhir.ru/identifier/snils|123-456-789 01'); check "GET Patient?identifier" "$s $(j "d['total']")" "200 1"
s=$(q AllergyIntolerance --data-urlencode "patient=Patient/$PID" --data-urlencode clinical-status=active); check "GET AllergyIntolerance?patient&clinical-status=active" "$s $(j "len(d.get('entry',[]))")" "200 2"
s=$(q Condition --data-urlencode "patient=Patient/$PID"); check "GET Condition?patient" "$s $(j "len(d.get('entry',[]))")" "200 2"
s=$(q MedicationStatement --data-urlencode "patient=Patient/$PID"); check "GET MedicationStatement?patient" "$s $(j "len(d.get('entry',[]))")" "200 2"
s=$(q Observation --data-urlencode "patient=Patient/$PID" --data-urlencode _sort=-date); check "GET Observation?patient&_sort=-date" "$s $(j "len(d.get('entry',[]))")" "200 2"
s=$(curl -s -o $D/o.json -w '%{http_code}' -X PUT -H "$H" "$B/Patient?identifier=http%3A%2F%2Ffhir.ru%2Fidentifier%2Fsnils%7C123-456-789%2001" -d '{"resourceType":"Patient","identifier":[{"system":"http://fhir.ru/identifier/snils","value":"123-456-789 01"}],"name":[{"family":"Ivanov","given":["Ivan","Petrovich"]}]}')
check "PUT Patient?identifier (conditional update)" "$s $(j "d['id']")" "200 $PID"
s=$(curl -s -o $D/o.json -w '%{http_code}' -X POST -H "$H" --data @$D/tx_put.json $B/); check "tx with PUT Patient?identifier" "$s $(j "','.join(e['response']['status'] for e in d['entry'])")" "200 200,201,201"
s=$(curl -s -o $D/o.json -w '%{http_code}' $B/Patient/nope); check "404 read -> OperationOutcome" "$s $(j "d['resourceType']")" "404 OperationOutcome"
s=$(curl -s -o $D/o.json -w '%{http_code}' -X POST -H "$H" $B/Patient -d '{"resourceType":"Patient","foo":1}'); check "invalid resource -> 400 OperationOutcome" "$s $(j "d['resourceType']")" "400 OperationOutcome"
s=$(curl -s -o $D/o.json -w '%{http_code}' -X POST -H "$H" --data @$D/bad.json $B/); check "invalid tx -> 400 OperationOutcome" "$s $(j "d['resourceType']")" "400 OperationOutcome"
s=$(q Patient --data-urlencode 'identifier=http://fhir.ru/identifier/snils|888'); check "failed tx rolled back" "$s $(j "d['total']")" "200 0"
echo "$pass passed, $fail failed"; [ $fail -eq 0 ]
