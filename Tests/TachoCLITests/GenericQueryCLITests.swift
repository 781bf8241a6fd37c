import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho query/latest/agg/vehicles/stats/measurements` over measurements other than
/// detections and status, on a store written through the engine (exact output bytes).
@Suite(.serialized) struct GenericQueryCLITests {
    static let t0: Int64 = 1_535_068_800_000_000  // 2018-08-24T00:00:00Z
    static let minute: Int64 = 60_000_000

    /// Two location fixes per device and the power readings of the fleet-power samples
    /// (ship 2 in kW every 5 minutes, ship 3 in kWh every 15 minutes).
    static let store: Result<String, StoreSetupError> = {
        let dir = NSTemporaryDirectory() + "tacho-generic-\(UUID().uuidString)"
        do {
            var o = StoreOptions()
            o.measurements = [.locations, .power, alarms]
            o.logger.logLevel = .error
            let w = try StoreWriter(path: dir, options: o)
            var loc = RowBatch(.locations)
            loc.append(vehicle: "356938035643809", time: t0 + 1_250_000, [.double(48.137154), .double(11.576124), .double(54.2), .int(270)])
            loc.append(vehicle: "356938035643809", time: t0 + minute, [.double(48.1372), .double(11.5755), .double(0), .int(265)])
            loc.append(vehicle: "356938035643810", time: t0 + 2 * minute, [.double(52.52), .double(13.405), .double(88.5), .int(90)])
            try w.append(loc)
            var power = RowBatch(.power)
            for (i, v) in [22.0, 24, 23, 18, 22, 20].enumerated() {
                power.append(vehicle: "2", time: t0 + Int64(i) * 5 * minute, [.double(v), .string("kW")])
            }
            for (i, v) in [2.0, 5, 2, 6].enumerated() {
                power.append(vehicle: "3", time: t0 + Int64(i) * 15 * minute, [.double(v), .string("kWh")])
            }
            try w.append(power)
            let m = w.catalog.measurement(named: "alarms") ?? alarms
            var al = RowBatch(m)
            al.append(vehicle: "356938035643809", time: t0 + 3 * minute,
                      [.string("harsh_braking"), .int(2), .strings(["356938035643809/front.mp4", "356938035643809/cabin.mp4"]), .bool(true)])
            al.append(vehicle: "356938035643809", time: t0 + 4 * minute, [.string("drowsy"), nil, .strings([]), nil])
            try w.append(al)
            try w.commit()
            w.close()
            return .success(dir)
        } catch {
            return .failure(StoreSetupError(message: "\(error)"))
        }
    }()

    struct StoreSetupError: Error { var message: String }

    static let alarms = Measurement(id: 4, name: "alarms", columns: [
        ColumnSpec("alarm_type", .string, identity: true), ColumnSpec("severity", .int64, nullable: true),
        ColumnSpec("files", .stringList), ColumnSpec("acknowledged", .bool, nullable: true),
    ])

    /// String lists print as `a;b` in CSV, arrays in JSON; nulls empty in CSV, null in JSON.
    @Test func listsBoolsAndNullsPrintPerFormat() throws {
        let csv = try run(["query", "alarms"])
        #expect(csv.stdout == """
            vehicle_id,time,alarm_type,severity,files,acknowledged
            356938035643809,2018-08-24T00:03:00.000Z,harsh_braking,2,356938035643809/front.mp4;356938035643809/cabin.mp4,true
            356938035643809,2018-08-24T00:04:00.000Z,drowsy,,,

            """)
        let nd = try run(["query", "alarms", "--where", "files=356938035643809/cabin.mp4", "--where", "acknowledged=true", "--format", "ndjson"])
        #expect(nd.stdout == #"{"vehicle_id":"356938035643809","time":"2018-08-24T00:03:00.000Z","alarm_type":"harsh_braking","severity":2,"files":["356938035643809/front.mp4","356938035643809/cabin.mp4"],"acknowledged":true}"# + "\n")
        let latest = try run(["latest", "alarms", "--format", "json"])
        #expect(latest.stdout == """
            [
            {"vehicle_id":"356938035643809","time":"2018-08-24T00:04:00.000Z","alarm_type":"drowsy","severity":null,"files":[],"acknowledged":null}
            ]

            """)
    }

    func run(_ args: [String]) throws -> RunResult {
        let r = try tacho(args + ["--store", try Self.store.get()])
        return r
    }

    @Test func queryPrintsTheSchemaColumnsAndFilters() throws {
        let all = try run(["query", "locations"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout == """
            vehicle_id,time,lat,lon,speed_kmh,heading
            356938035643809,2018-08-24T00:00:01.250Z,48.137154,11.576124,54.2,270
            356938035643809,2018-08-24T00:01:00.000Z,48.1372,11.5755,0,265
            356938035643810,2018-08-24T00:02:00.000Z,52.52,13.405,88.5,90

            """)
        let fast = try run(["query", "locations", "--where", "speed_kmh>50", "--where", "heading <= 180", "--format", "ndjson"])
        #expect(fast.stdout == #"{"vehicle_id":"356938035643810","time":"2018-08-24T00:02:00.000Z","lat":52.52,"lon":13.405,"speed_kmh":88.5,"heading":90}"# + "\n")
        let kwh = try run(["query", "power", "--where", "units=kWh", "--where", "value>=5", "--format", "table"])
        #expect(kwh.stdout == """
            vehicle_id  time                      value  units
            ----------  ------------------------  -----  -----
            3           2018-08-24T00:15:00.000Z      5  kWh
            3           2018-08-24T00:45:00.000Z      6  kWh
            (2 rows)

            """)
    }

    @Test func latestOfAMeasurementIsTheNewestRowPerVehicle() throws {
        let r = try run(["latest", "locations"])
        #expect(r.stdout == """
            vehicle_id,time,lat,lon,speed_kmh,heading
            356938035643809,2018-08-24T00:01:00.000Z,48.1372,11.5755,0,265
            356938035643810,2018-08-24T00:02:00.000Z,52.52,13.405,88.5,90

            """)
        let at = try run(["latest", "power", "--at", "2018-08-24T00:12:00Z", "--vehicle", "3", "--vehicle", "9"])
        #expect(at.stdout == "vehicle_id,time,value,units\n3,2018-08-24T00:00:00.000Z,2,kWh\n")
        #expect(at.stderr.contains("no power rows for vehicle 9"))
        // Bare `latest` is still the status, and this store has none.
        #expect(try run(["latest"]).stdout == "vehicle_id,time,status\n")
    }

    /// 15-minute energy labelled by the window's right edge, every window of the range:
    /// ship 2's kW samples 22, 24, 23 → 23 kW × 0.25 h, then 18, 22, 20 → 5 kWh; ship 3's kWh readings as they are.
    @Test func energyPerFifteenMinutes() throws {
        let r = try run(["agg", "power", "--every", "15m", "--fn", "energy", "--label", "right", "--fill", "0",
                         "--from", "2018-08-24T00:00:00Z", "--to", "2018-08-24T01:15:00Z"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            bucket,vehicle_id,value
            2018-08-24T00:15:00.000Z,2,5.75
            2018-08-24T00:15:00.000Z,3,2
            2018-08-24T00:30:00.000Z,2,5
            2018-08-24T00:30:00.000Z,3,5
            2018-08-24T00:45:00.000Z,2,0
            2018-08-24T00:45:00.000Z,3,2
            2018-08-24T01:00:00.000Z,2,0
            2018-08-24T01:00:00.000Z,3,6
            2018-08-24T01:15:00.000Z,2,0
            2018-08-24T01:15:00.000Z,3,0

            """)
        let maxSpeed = try run(["agg", "locations", "--every", "1h", "--fn", "max", "--field", "speed_kmh", "--by", "vehicle", "--format", "json"])
        #expect(maxSpeed.stdout == """
            [
            {"bucket":"2018-08-24T00:00:00.000Z","vehicle_id":"356938035643809","value":54.2},
            {"bucket":"2018-08-24T00:00:00.000Z","vehicle_id":"356938035643810","value":88.5}
            ]

            """)
        let byUnits = try run(["agg", "power", "--every", "1h", "--fn", "count", "--by", "units"])
        #expect(byUnits.stdout == "bucket,units,value\n2018-08-24T00:00:00.000Z,kW,6\n2018-08-24T00:00:00.000Z,kWh,4\n")
    }

    @Test func catalogVehiclesAndStatsPerMeasurement() throws {
        let m = try run(["measurements"])
        #expect(m.stdout == """
            name,id,columns,identity,rows
            detections,1,object_type:string;value:int64,vehicle_id;time;object_type,0
            status,2,status:string,vehicle_id;time,0
            locations,3,lat:float64;lon:float64;speed_kmh:float64;heading:int64,vehicle_id;time,3
            alarms,4,alarm_type:string;severity:int64;files:string_list;acknowledged:bool,vehicle_id;time;alarm_type,2
            power,5,value:float64;units:string,vehicle_id;time,10

            """)
        let mj = try run(["measurements", "--format", "ndjson"])
        #expect(mj.stdout.contains(#"{"name":"power","id":5,"columns":["value:float64","units:string"],"identity":["vehicle_id","time"],"rows":10}"#))
        let v = try run(["vehicles", "--measurement", "power"])
        #expect(v.stdout == """
            vehicle_id,first_time,last_time,rows
            2,2018-08-24T00:00:00.000Z,2018-08-24T00:25:00.000Z,6
            3,2018-08-24T00:00:00.000Z,2018-08-24T00:45:00.000Z,4

            """)
        let all = try run(["vehicles"])
        #expect(all.stdout.hasPrefix("vehicle_id,first_time,last_time,detection_rows,status_rows\n2,2018-08-24T00:00:00.000Z,"))
        let stats = try run(["stats"])
        let names = stats.stdout.split(separator: "\n").map { $0.split(separator: ",").first ?? "" }
        #expect(names == ["measurement", "detections", "status", "locations", "alarms", "power", "total"])
        let one = try run(["stats", "--measurement", "locations"])
        #expect(one.stdout.split(separator: "\n").count == 2 && one.stdout.contains("\nlocations,1,1,3,3,"))
    }

    @Test func unknownNamesListWhatExists() throws {
        let m = try run(["query", "alarm"])
        #expect(m.status != 0 && m.stderr.contains("unknown measurement \"alarm\"; known measurements: detections, status, locations, alarms, power"))
        let c = try run(["query", "locations", "--where", "speed=3"])
        #expect(c.status != 0 && c.stderr.contains("has no column \"speed\"") && c.stderr.contains("speed_kmh (float64)"))
        let op = try run(["query", "power", "--where", "units>kW"])
        #expect(op.status != 0 && op.stderr.contains("compares with = or != only"))
        let field = try run(["agg", "locations", "--every", "1h", "--fn", "sum"])
        #expect(field.status != 0 && field.stderr.contains("needs a field: one of lat, lon, speed_kmh, heading"))
        let help = try tacho(["agg", "--help"])
        #expect(help.stdout.contains("tacho agg power --every 15m --fn energy --label right --fill 0"))
    }
}
