import Foundation
import TachoHTTP
import TachoTestSupport
import Testing

/// The web console in a real browser: Debian's chromium, headless, driven by selenium
/// (tools/console-browser-test; `make test-deps` installs chromium, chromium-driver and the
/// venv) against `tacho serve` on a store of known rows. The driver reports what the page
/// shows; the expectations here come from the rows written below, not from the API. A browser
/// that cannot be started fails the test with what to install.
///
/// Screenshots (fleet.png, vehicle.png, alarms.png, query.png) are written to
/// `.build/test-artifacts/console-browser/` (the token run: `…/console-browser-token/`), or
/// under `$TACHO_TEST_ARTIFACTS` when set.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let v1 = "356938035643809"  // an IMEI: detections, status, locations, alarms, power
    static let v2 = "ebab5f787798416fb2b8afc1340d7a4e"
    static let v3 = "qbae3f-odd"  // not hex, as seen in the wild; its alarm carries markup
    /// The vehicle view's range: 8 windows of 15 minutes.
    static let from = "2025-09-14T06:00:00Z", to = "2025-09-14T08:00:00Z"

    /// The telemetry files, in the input formats of docs/SEMANTICS.md §1.
    static let files: [(String, String)] = [
        ("objects_detection_1757829600.json", """
            {"objects_detection_events":[
             {"vehicle_id":"\(v1)","detection_time":"2025-09-14T06:01:00.000Z",
              "detections":[{"object_type":"pedestrians","object_value":3},{"object_type":"cars","object_value":2}]},
             {"vehicle_id":"\(v1)","detection_time":"2025-09-14T06:20:00.000Z","object_type":"cars","object_value":4},
             {"vehicle_id":"\(v1)","detection_time":"2025-09-14T06:50:00.000Z",
              "detections":[{"object_type":"cars","object_value":1},{"object_type":"trucks","object_value":1}]},
             {"vehicle_id":"\(v1)","detection_time":"2025-09-14T07:40:00.000Z","object_type":"signs","object_value":2},
             {"vehicle_id":"\(v1)","detection_time":"2025-09-14T09:10:00.000Z","object_type":"cars","object_value":9},
             {"vehicle_id":"\(v2)","detection_time":"2025-09-14T06:05:00.000Z","object_type":"cars","object_value":5}]}
            """),
        ("vehicles_status_1757829600.json", """
            {"vehicle_status":[
             {"vehicle_id":"\(v1)","report_time":"2025-09-14T06:00:00.000Z","status":"driving"},
             {"vehicle_id":"\(v1)","report_time":"2025-09-14T07:00:00.000Z","status":"parking"},
             {"vehicle_id":"\(v1)","report_time":"2025-09-14T07:50:00.000Z","status":"driving"},
             {"vehicle_id":"\(v2)","report_time":"2025-09-14T06:10:00.000Z","status":"parking"},
             {"vehicle_id":"\(v3)","report_time":"2025-09-14T07:05:00.000Z","status":"accident"}]}
            """),
        // A late, older file: the latest status must not go back to it.
        ("vehicles_status_1757990000.json", """
            {"vehicle_status":[{"vehicle_id":"\(v1)","report_time":"2025-09-13T22:00:00.000Z","status":"accident"}]}
            """),
        ("locations_1757829600.json", """
            {"locations":[
             {"imei":"\(v1)","time":"2025-09-14T06:00:00.000Z","lat":48.1370,"lon":11.5760,"speed_kmh":30.0,"heading":90},
             {"imei":"\(v1)","time":"2025-09-14T06:01:00.000Z","lat":48.1372,"lon":11.5790,"speed_kmh":42.5,"heading":80},
             {"imei":"\(v1)","time":"2025-09-14T06:02:00.000Z","lat":48.1380,"lon":11.5820,"speed_kmh":50.0,"heading":60},
             {"imei":"\(v1)","time":"2025-09-14T06:03:00.000Z","lat":48.1395,"lon":11.5840,"speed_kmh":48.0,"heading":30},
             {"imei":"\(v1)","time":"2025-09-14T06:04:00.000Z","lat":48.1410,"lon":11.5845,"speed_kmh":20.0,"heading":0},
             {"imei":"\(v1)","time":"2025-09-14T09:00:00.000Z","lat":48.2000,"lon":11.6000,"speed_kmh":54.2,"heading":270},
             {"imei":"\(v2)","time":"2025-09-14T06:10:00.000Z","lat":52.5200,"lon":13.4050,"speed_kmh":0,"heading":0}]}
            """),
        ("alarms_1757829600.json", """
            {"alarms":[
             {"imei":"\(v1)","time":"2025-09-14T06:30:00.000Z","alarm_type":"harsh_braking","severity":2,
              "files":["\(v1)/20250914_063000_front.mp4","\(v1)/20250914_063000_cabin.mp4"]},
             {"imei":"\(v1)","time":"2025-09-14T07:10:00.000Z","alarm_type":"collision","severity":3,"files":["\(v1)/20250914_071000_front.mp4"]},
             {"imei":"\(v1)","time":"2025-09-14T07:45:00.000Z","alarm_type":"harsh_braking","severity":1,"files":[]},
             {"imei":"\(v2)","time":"2025-09-14T06:40:00.000Z","alarm_type":"harsh_braking","severity":2,"files":["\(v2)/20250914_064000_front.mp4"]},
             {"imei":"\(v3)","time":"2025-09-14T07:06:00.000Z","alarm_type":"<b>tamper</b>","severity":1,
              "files":["<img src=x onerror=\\"document.title='pwned'\\">.mp4"]}]}
            """),
        // kW samples: the window [06:00, 06:15) is 12 kW × 0.25 h = 3 kWh, labelled 06:15.
        ("power_kw.json", """
            {"units":"kW","data":[{"timestamp":"2025-09-14T06:00:00Z","value":10},{"timestamp":"2025-09-14T06:05:00Z","value":12},
             {"timestamp":"2025-09-14T06:10:00Z","value":14}],"spaceship_id":"\(v1)"}
            """),
        // kWh readings: [07:15, 07:30) used 1.5 kWh, labelled 07:30.
        ("power_kwh.json", """
            {"spaceship_id":"\(v1)","units":"kWh","data":[{"timestamp":"2025-09-14T07:20:00Z","value":1.5}]}
            """),
    ]

    /// The store of `files`, ingested by the built `tacho`.
    static func makeStore(_ dir: TempDir) throws -> String {
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: inbox + "/" + name, atomically: true, encoding: .utf8) }
        _ = try tacho(["ingest", "--store", store, inbox])
        return store
    }

    @Test func theConsoleShowsTheFleetAVehicleAndTheAlarmsInChromium() async throws {
        let dir = TempDir("tacho-console")
        let store = try Self.makeStore(dir)
        let server = try ServeProcess(store: store)
        defer { server.stop() }
        let shots = artifactsDirectory("console-browser")
        guard let seen = try await runDriver(port: server.port, shots: shots, extra: []) else { return }
        check(seen, shots: shots, store: store)
        server.stop()
        #expect(server.stoppedCleanly, "tacho serve did not stop cleanly on SIGTERM")
    }

    /// With auth on, the page asks for a token, keeps it in sessionStorage and sends it: the
    /// same views, through an in-process server that wants an admin token.
    @Test func theConsoleWorksWithABearerToken() async throws {
        let dir = TempDir("tacho-console")
        let store = try Self.makeStore(dir)
        var auth = HTTPAuthOptions()
        auth.adminTokenDigests = [HTTPAuthOptions.digest("browser-admin-token")]
        let shots = artifactsDirectory("console-browser-token")
        try await withServer(store, configure: { $0.auth = auth }) { port in
            guard let seen = try await runDriver(port: port, shots: shots, extra: ["--token", "browser-admin-token"]) else { return }
            #expect(seen.withoutToken?.contains("401") == true, "without a token the page should show the refusal: \(seen.withoutToken ?? "nothing")")
            #expect(seen.tokenInSession == true)
            check(seen, shots: shots, store: store)
        }
    }

    /// A device token (POST /api/v1/login): the API narrows every answer to the device's own
    /// rows, and the page, refused the fleet list (403), shows what it may read.
    @Test func theConsoleWorksWithADeviceToken() async throws {
        let dir = TempDir("tacho-console")
        let store = try Self.makeStore(dir)
        var auth = HTTPAuthOptions()
        auth.deviceSecretDigests = [Self.v1: HTTPAuthOptions.digest("device-secret")]
        let shots = artifactsDirectory("console-browser-device")
        try await withServer(store, configure: { $0.auth = auth }) { port in
            let login = try await request(port, "/api/v1/login", method: .POST,
                                          body: Array(#"{"device_id":"\#(Self.v1)","secret":"device-secret"}"#.utf8))
            let object = try JSONSerialization.jsonObject(with: Data(login.body.utf8)) as? [String: Any]
            guard login.status == 200, let token = object?["token"] as? String else {
                Issue.record("no device token: \(login.status) \(login.body)")
                return
            }
            guard let seen = try await runDriver(port: port, shots: shots, extra: ["--token", token],
                                                 alarmFilters: Array(Self.deviceAlarmFilters.keys).sorted()) else { return }
            #expect(seen.withoutToken?.contains("401") == true)
            check(seen, shots: shots, store: store, device: Self.v1)
        }
    }

    static let deviceAlarmFilters: [String: [String]] = [
        "type=harsh_braking": ["\(v1) 06:30", "\(v1) 07:45"],
        "severity=2": ["\(v1) 06:30", "\(v1) 07:10"],
    ]

    // MARK: - expectations

    /// `device`: the views as that device's token shows them (its own rows only).
    func check(_ seen: Observed, shots: String, store: String, device: String? = nil) {
        #expect(seen.pageTitle == "Tacho console")
        // A device's token is refused the fleet list (403, logged by the browser); nothing else.
        let errors = seen.consoleErrors.filter { device == nil || !($0.contains("/api/v1/vehicles") && $0.contains("403")) }
        #expect(errors.isEmpty, "the page logged errors: \(errors)")
        if let device {
            checkDevice(seen, device)
        } else {
            checkFleetAndAlarms(seen)
        }
        checkVehicleAndQuery(seen, store: store)
        for name in ["fleet.png", "vehicle.png", "alarms.png", "query.png"] {
            let path = shots + "/" + name
            let head = FileManager.default.contents(atPath: path).map { Array($0.prefix(8)) } ?? []
            #expect(head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "no PNG screenshot at \(path)")
        }
    }

    func checkDevice(_ seen: Observed, _ device: String) {
        let fleet = seen.fleet
        #expect(fleet.error == nil, "\(fleet.error ?? "")")
        #expect(fleet.rows.map(\.vehicle) == [device])
        #expect(fleet.rows.map(\.status) == ["driving"])
        #expect(fleet.rows.map(\.location) == ["48.20000, 11.60000"])
        // No fleet list: the newer of its latest status and location.
        #expect(fleet.rows.map(\.lastSeen) == ["2025-09-14T09:00:00.000Z"])
        #expect(fleet.summary == "1 vehicle")
        let a = seen.alarms
        #expect(a.error == nil, "\(a.error ?? "")")
        #expect(a.all.map { "\($0.vehicle) \($0.time.dropFirst(11).prefix(5))" } == ["\(device) 06:30", "\(device) 07:10", "\(device) 07:45"])
        #expect(a.filtered.count == Self.deviceAlarmFilters.count)
        for f in a.filtered {
            #expect(f.error == nil, "\(f.filter): \(f.error ?? "")")
            #expect(f.rows.map { "\($0.vehicle) \($0.time.dropFirst(11).prefix(5))" } == Self.deviceAlarmFilters[f.filter], "filter \(f.filter)")
        }
    }

    func checkFleetAndAlarms(_ seen: Observed) {
        // Fleet: every vehicle of every measurement, its newest status (not the late older
        // file's) and its newest location (09:00, outside the vehicle view's range).
        let fleet = seen.fleet
        #expect(fleet.error == nil, "\(fleet.error ?? "")")
        #expect(fleet.rows.map(\.vehicle) == [Self.v1, Self.v2, Self.v3])
        #expect(fleet.rows.map(\.status) == ["driving", "parking", "accident"])
        #expect(fleet.rows.map(\.statusTime) == ["2025-09-14T07:50:00.000Z", "2025-09-14T06:10:00.000Z", "2025-09-14T07:05:00.000Z"])
        #expect(fleet.rows.map(\.location) == ["48.20000, 11.60000", "52.52000, 13.40500", ""])
        #expect(fleet.rows.map(\.speed) == ["54.2", "0.0", ""])
        #expect(fleet.rows.map(\.lastSeen) == ["2025-09-14T09:10:00.000Z", "2025-09-14T06:40:00.000Z", "2025-09-14T07:06:00.000Z"])
        #expect(fleet.rows.first?.link == "#vehicle/\(Self.v1)")
        #expect(fleet.refreshes >= 2, "the fleet table did not refresh by itself")
        #expect(fleet.summary == "3 vehicles")

        // Alarms: all five, then each filter narrows the list to its rows.
        let a = seen.alarms
        #expect(a.error == nil, "\(a.error ?? "")")
        #expect(a.all.map(\.time) == ["2025-09-14T06:30:00.000Z", "2025-09-14T07:10:00.000Z", "2025-09-14T07:45:00.000Z",
                                      "2025-09-14T06:40:00.000Z", "2025-09-14T07:06:00.000Z"])
        #expect(a.all.first?.files == ["\(Self.v1)/20250914_063000_front.mp4", "\(Self.v1)/20250914_063000_cabin.mp4"])
        #expect(a.all.map(\.files.count) == [2, 1, 0, 1, 1])
        // Markup in stored values is shown as text, never made into elements.
        #expect(a.all.last?.type == "<b>tamper</b>")
        #expect(a.all.last?.files == [#"<img src=x onerror="document.title='pwned'">.mp4"#])
        #expect(Set(a.elementsInTable).isSubset(of: ["tr", "td", "a", "ul", "li"]), "\(a.elementsInTable)")
        #expect(a.documentTitle == "Tacho console")
        let expected: [String: [String]] = [
            "type=harsh_braking": ["\(Self.v1) 06:30", "\(Self.v1) 07:45", "\(Self.v2) 06:40"],
            "type=harsh_braking&vehicle=\(Self.v2)": ["\(Self.v2) 06:40"],
            "type=harsh_braking&from=2025-09-14T07:00:00Z": ["\(Self.v1) 07:45"],
            "severity=2": ["\(Self.v1) 06:30", "\(Self.v1) 07:10", "\(Self.v2) 06:40"],
        ]
        #expect(a.filtered.map(\.filter) == Self.alarmFilters)
        for f in a.filtered {
            #expect(f.error == nil, "\(f.filter): \(f.error ?? "")")
            let rows = f.rows.map { "\($0.vehicle) \($0.time.dropFirst(11).prefix(5))" }
            #expect(rows == expected[f.filter], "filter \(f.filter)")
        }
    }

    func checkVehicleAndQuery(_ seen: Observed, store: String) {
        // Vehicle v1 over [06:00, 08:00).
        let v = seen.vehicle
        #expect(v.error == nil, "\(v.error ?? "")")
        #expect(v.title == Self.v1)
        #expect(v.latest.contains("driving") && v.latest.contains("2025-09-14T07:50:00.000Z"), "\(v.latest)")
        // The default range: the six hours up to the window after the vehicle's newest row (09:10).
        #expect(v.defaultRange == ["2025-09-14T03:15:00Z", "2025-09-14T09:15:00Z"])
        // One bar per (window, type) with objects: 06:00 cars 2 + pedestrians 3, 06:15 cars 4,
        // 06:45 cars 1 + trucks 1, 07:30 signs 2 (09:10 is outside the range).
        let bars = v.detectionBars.map { "\($0.key ?? "?")=\(Int($0.value))" }
        #expect(bars.sorted() == ["cars=1", "cars=2", "cars=4", "pedestrians=3", "signs=2", "trucks=1"], "\(bars)")
        #expect(v.detectionBars.count == 6)
        #expect(v.legend == ["cars", "pedestrians", "signs", "trucks"])
        #expect(v.detectionBars.allSatisfy { $0.height > 0 })
        // Energy: one bar per 15-minute window of the range (8), empty windows 0.
        let energy = v.energyBars.map { ($0.value * 1000).rounded() / 1000 }
        #expect(v.energyBars.count == 8, "\(v.energyBars.map(\.title))")
        #expect(energy == [3, 0, 0, 0, 0, 1.5, 0, 0], "\(v.energyBars.map(\.title))")
        // The track: the five locations inside the range.
        #expect(v.trackPoints == 5)
        #expect(v.trackPointsAttribute == 5)

        // Query box: its download link is the API URL, and answers what `tacho query` prints.
        let q = seen.query
        #expect(q.error == nil, "\(q.error ?? "")")
        #expect(q.measurements == ["detections", "status", "locations", "alarms", "power"])
        #expect(q.href == "/api/v1/query/detections?vehicle=\(Self.v1)&format=csv")
        let cli = (try? tacho(["query", "detections", "--store", store, "--vehicle", Self.v1, "--format", "csv"])) ?? "(tacho query failed)"
        #expect(q.download == cli)
        #expect(q.previewRows == 7)
    }

    static let alarmFilters = ["type=harsh_braking", "type=harsh_braking&vehicle=\(v2)",
                               "type=harsh_braking&from=2025-09-14T07:00:00Z", "severity=2"]

    // MARK: - the driver

    /// Runs tools/console-browser-test (on a thread of its own: it blocks until the browser is
    /// done); nil, with the failure recorded, when it did not observe.
    func runDriver(port: Int, shots: String, extra: [String], alarmFilters: [String] = Self.alarmFilters) async throws -> Observed? {
        try? FileManager.default.removeItem(atPath: shots)
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        var args = [repositoryRoot + "/tools/console-browser-test", "--url", "http://127.0.0.1:\(port)",
                    "--vehicle", Self.v1, "--from", Self.from, "--to", Self.to, "--screenshots", shots]
        for f in alarmFilters { args += ["--alarm-filter", f] }
        let command = args + extra
        let run = await onThread { runProcess(command, outputs: shots) }
        switch run {
        case .failure(let message):
            Issue.record("\(message)")
            return nil
        case .success(let data):
            do {
                return try JSONDecoder().decode(Observed.self, from: data)
            } catch {
                Issue.record("the driver's output is not what this test reads: \(error): \(String(decoding: data.prefix(2000), as: UTF8.self))")
                return nil
            }
        }
    }
}

struct DriverFailure: Error, CustomStringConvertible {
    var description: String
}

/// bash `args`, its stdout and stderr into files in `outputs` (no pipe to fill up); stdout
/// when it exits 0.
func runProcess(_ args: [String], outputs: String) -> Result<Data, DriverFailure> {
    let outPath = outputs + "/driver.stdout.json", errPath = outputs + "/driver.stderr.txt"
    guard FileManager.default.createFile(atPath: outPath, contents: nil), FileManager.default.createFile(atPath: errPath, contents: nil),
          let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
        return .failure(DriverFailure(description: "cannot write into \(outputs)"))
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = args
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    do {
        try p.run()
    } catch {
        return .failure(DriverFailure(description: "cannot run tools/console-browser-test: \(error)"))
    }
    p.waitUntilExit()
    try? out.close()
    try? err.close()
    let stdout = FileManager.default.contents(atPath: outPath) ?? Data()
    let stderr = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
    switch p.terminationStatus {
    case 0:
        return .success(stdout)
    case 3:
        return .failure(DriverFailure(description: "the browser could not be started: install Debian's chromium and chromium-driver and the selenium venv (make test-deps; or apt-get install chromium chromium-driver and tools/pyenv --browser): \(stderr)"))
    default:
        return .failure(DriverFailure(description: "tools/console-browser-test exited \(p.terminationStatus): \(stderr)"))
    }
}

/// `body` on a thread of its own, so that blocking in it holds no thread of the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in
        Thread { c.resume(returning: body()) }.start()
    }
}

/// The repository (for tools/), from this file's path.
let repositoryRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Where a test leaves files for a person to look at: `$TACHO_TEST_ARTIFACTS/NAME`, else
/// `.build/test-artifacts/NAME` in the repository.
func artifactsDirectory(_ name: String) -> String {
    let base = ProcessInfo.processInfo.environment["TACHO_TEST_ARTIFACTS"].flatMap { $0.isEmpty ? nil : $0 }
        ?? repositoryRoot + "/.build/test-artifacts"
    let dir = base + "/" + name
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// `tacho serve` (exec'd as tacho-net) on 127.0.0.1 and a port the system chose; `stop()`
/// (also on deinit) sends SIGTERM and, after 15 s, SIGKILL.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private(set) var stoppedCleanly = false

    init(store: String) throws {
        process.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
        process.arguments = ["serve", "--store", store, "--listen", "127.0.0.1:0"]
        process.environment = childEnvironment(["TACHO_CONFIG": ""])
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var seen = ""
        var found: Int?
        while found == nil {
            let d = err.fileHandleForReading.availableData
            guard !d.isEmpty else { break }
            seen += String(decoding: d, as: UTF8.self)
            if let r = seen.range(of: "listening on http://127.0.0.1:") {
                found = Int(seen[r.upperBound...].prefix { $0.isNumber })
            }
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw HarnessError("tacho serve did not start: \(seen)")
        }
        port = found
        // Keep reading its log so a full pipe never blocks the server.
        err.fileHandleForReading.readabilityHandler = { h in _ = h.availableData }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let stopped = waitUntil(15) { !process.isRunning }
        if !stopped { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        stoppedCleanly = stopped && process.terminationReason == .exit && process.terminationStatus == 0
    }

    deinit { stop() }
}

/// What tools/console-browser-test prints.
struct Observed: Decodable, Sendable {
    struct Fleet: Decodable, Sendable {
        struct Row: Decodable, Sendable {
            var vehicle, link, status, statusTime, location, speed, locationTime, lastSeen: String
        }
        var rows: [Row]
        var refreshes: Int
        var summary: String
        var error: String?
    }
    struct Bar: Decodable, Sendable {
        var key: String?
        var value: Double
        var height: Double
        var title: String?
    }
    struct Vehicle: Decodable, Sendable {
        var title, latest: String
        var detectionBars: [Bar]
        var legend: [String]
        var energyBars: [Bar]
        var trackPoints, trackPointsAttribute: Int
        var notes: [String]
        var defaultRange: [String]
        var error: String?
    }
    struct Alarm: Decodable, Sendable {
        var time, vehicle, type, severity: String
        var files: [String]
    }
    struct Filtered: Decodable, Sendable {
        var filter: String
        var rows: [Alarm]
        var error: String?
    }
    struct Alarms: Decodable, Sendable {
        var all: [Alarm]
        var countText: String
        var filtered: [Filtered]
        var elementsInTable: [String]
        var documentTitle: String
        var error: String?
    }
    struct Query: Decodable, Sendable {
        var measurements: [String]
        var href, download: String
        var previewRows: Int
        var error: String?
    }
    var pageTitle: String
    var withoutToken: String?
    var tokenInSession: Bool?
    var fleet: Fleet
    var vehicle: Vehicle
    var alarms: Alarms
    var query: Query
    var consoleErrors: [String]

    enum CodingKeys: String, CodingKey {
        case pageTitle = "page_title", withoutToken = "without_token", tokenInSession = "token_in_session"
        case fleet, vehicle, alarms, query, consoleErrors = "console_errors"
    }
}

extension Observed.Fleet.Row {
    enum CodingKeys: String, CodingKey {
        case vehicle, link, status, location, speed
        case statusTime = "status_time", locationTime = "location_time", lastSeen = "last_seen"
    }
}

extension Observed.Vehicle {
    enum CodingKeys: String, CodingKey {
        case title, latest, legend, notes, error
        case detectionBars = "detection_bars", energyBars = "energy_bars", trackPoints = "track_points"
        case trackPointsAttribute = "track_points_attribute", defaultRange = "default_range"
    }
}

extension Observed.Alarms {
    enum CodingKeys: String, CodingKey {
        case all, filtered, error
        case countText = "count_text", elementsInTable = "elements_in_table", documentTitle = "document_title"
    }
}

extension Observed.Query {
    enum CodingKeys: String, CodingKey {
        case measurements, href, download, error
        case previewRows = "preview_rows"
    }
}
