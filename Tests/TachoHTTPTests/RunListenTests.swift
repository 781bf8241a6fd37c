import Foundation
import TachoTestSupport
import Testing

/// `tacho run --listen` (the built binary, exec'd as tacho-net): the HTTP front inside the
/// daemon. Acknowledged writes survive a kill -9 (and a SIGTERM) exactly once; a write is
/// ingested at once even when the daemon polls with a long settle time.
@Suite(.serialized) struct RunListenTests {
    /// Line protocol rows `kill9,vehicle_id=c<client> seq=<n>i <base + n s>`: one identity
    /// per (client, n), so a lost row and a row stored twice are both visible.
    static let base: Int64 = 1_735_689_600  // 2025-01-01T00:00:00Z

    @Test(arguments: [SIGKILL, SIGTERM])
    func acknowledgedWritesSurviveAStopMidStreamExactlyOnce(signal: Int32) async throws {
        let dir = TempDir("tacho-listen")
        let store = dir.path + "/store", inbox = dir.path + "/inbox"
        let first = try await ListeningDaemon(store: store, inbox: inbox, log: dir.path + "/run1.log")
        let port = first.port
        let acked = Acknowledged()
        let clients = 4, perRequest = 20
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask {
                    var n = 0
                    while Date().timeIntervalSince(started) < 20, await !acked.stopped {
                        let seqs = (n * perRequest)..<((n + 1) * perRequest)
                        let body = seqs.map { "kill9,vehicle_id=c\(c) seq=\($0)i \(Self.base + Int64($0))" }.joined(separator: "\n")
                        // After the stop, a new connection is retried until the deadline: keep it short.
                        let answer: HTTPAnswer
                        do {
                            answer = try await request(port, "/write?precision=s", method: .POST, body: Array(body.utf8), timeout: .seconds(3))
                        } catch {
                            return  // the server is gone: this body was not acknowledged
                        }
                        if answer.status == 204 {
                            await acked.add(client: c, seqs)
                        } else {
                            await acked.unexpected("\(answer.status) \(answer.body)")
                            return
                        }
                        n += 1
                    }
                }
            }
            // Stop mid-stream, once some 20 writes are acknowledged (at most 10 s: a loaded box
            // acknowledges fewer; the stop still lands mid-stream).
            while await acked.count < perRequest * 20, Date().timeIntervalSince(started) < 10 {
                try await Task.sleep(for: .milliseconds(20))
            }
            await acked.stop()
            kill(first.pid, signal)
            try await group.waitForAll()
        }
        let stopped = await eventually(20) { !first.process.isRunning }
        #expect(stopped, "tacho run did not stop within 20 s of signal \(signal)")
        if !stopped { kill(first.pid, SIGKILL) }
        first.process.waitUntilExit()
        if signal == SIGTERM {
            #expect(first.process.terminationReason == .exit && first.process.terminationStatus == 0,
                    "SIGTERM: \(first.process.terminationReason) \(first.process.terminationStatus); \(first.logText)")
        }
        let problems = await acked.problems
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        let expected = await acked.rows
        #expect(expected.count >= perRequest * clients, "only \(expected.count) rows were acknowledged before the stop")

        // Restart: it ingests what the first run acknowledged and had not ingested yet.
        let second = try await ListeningDaemon(store: store, inbox: inbox, log: dir.path + "/run2.log")
        let drained = await eventually(30) { Self.inboxIsEmpty(inbox) }
        #expect(drained, "the inbox still holds \(Self.inboxFiles(inbox)) after 30 s")
        let staged = (try? FileManager.default.contentsOfDirectory(atPath: inbox + "/.tacho-http")) ?? []
        #expect(staged.isEmpty, "unacknowledged bodies left staged: \(staged)")
        await second.stop()

        let csv = try tacho(["query", "kill9", "--store", store, "--format", "csv"])
        var seen: [String: Int] = [:]
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            guard f.count == 3 else { continue }
            seen["\(f[0]) \(f[2])", default: 0] += 1
        }
        let missing = expected.subtracting(seen.keys)
        #expect(missing.isEmpty, "\(missing.count) acknowledged rows are missing, e.g. \(missing.sorted().prefix(5))")
        let twice = seen.filter { $0.value > 1 }
        #expect(twice.isEmpty, "rows printed more than once: \(twice.keys.sorted().prefix(5))")
        // No body was ingested twice: the segments hold each row once (no superseded copy).
        let stats = try tacho(["stats", "--store", store, "--format", "csv"]).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = stats.first ?? []
        let row = stats.first { $0.first == "kill9" }
        if let row, let r = header.firstIndex(of: "rows"), let s = header.firstIndex(of: "stored_rows") {
            #expect(row[r] == row[s], "rows \(row[r]) but stored rows \(row[s]): some body was ingested twice")
            #expect(Int(row[r]) == seen.count)
        } else {
            Issue.record("tacho stats has no kill9 row: \(stats)")
        }
    }

    @Test func aWriteIsIngestedAtOnceWhenTheDaemonPollsWithALongSettle() async throws {
        let dir = TempDir("tacho-listen")
        let store = dir.path + "/store", inbox = dir.path + "/inbox"
        // Polling with a 60 s settle: a file dropped into the inbox waits a minute.
        let d = try await ListeningDaemon(store: store, inbox: inbox, log: dir.path + "/run.log", extra: ["--poll", "--settle", "60"])
        let sent = Date()
        let answer = try await request(d.port, "/write?precision=s", method: .POST, body: Array("wake,vehicle_id=v1 x=1i \(Self.base)\n".utf8))
        #expect(answer.status == 204, "\(answer.body)")
        // Asked over HTTP (the daemon's own snapshots): no process per look.
        var csv = ""
        let seen = await eventually(30) {
            csv = (try? await get(d.port, "/api/v1/query/wake?format=csv").body) ?? ""
            return csv.contains("v1,")
        }
        let took = Date().timeIntervalSince(sent)
        // Alone on this box: about 0.2 s. Far below the 60 s settle either way.
        #expect(seen && took < 30, "ingested: \(seen), after \(took) s (the settle is 60 s): \(csv)")

        // The daemon's own series on /metrics (the counters move just after the commit).
        let wanted = ["tacho_ingest_files_total{measurement=\"wake\"} 1", "tacho_ingest_rows_total{measurement=\"wake\"} 1",
                      "tacho_ingest_commit_duration_seconds_count 1", "tacho_ingest_rejected_files_total 0", "tacho_inbox_backlog_files 0",
                      // No scheduled compaction has run yet (the first comes a minute after start).
                      "tacho_compaction_runs_total{result=\"ok\"} 0", "tacho_compaction_runs_total{result=\"failed\"} 0"]
        var metrics = ""
        for _ in 0..<50 {
            metrics = try await get(d.port, "/metrics").body
            if wanted.allSatisfy({ metrics.contains($0 + "\n") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        for series in wanted {
            #expect(metrics.contains(series + "\n"), "/metrics lacks \(series): \(metrics)")
        }
        let free = metrics.split(separator: "\n").first { $0.hasPrefix("tacho_disk_free_bytes ") }.flatMap { UInt64($0.split(separator: " ")[1]) }
        #expect((free ?? 0) > 0, "tacho_disk_free_bytes: \(String(describing: free))")
        await d.stop()
    }

    /// `[http]` of the config file: `listen` alone starts the server (no `--listen`), its
    /// admin token digest turns auth on, `max_body` limits bodies.
    @Test func theConfigsHTTPTableListensWithItsTokensAndLimits() async throws {
        let dir = TempDir("tacho-listen")
        let config = dir.path + "/tacho.toml"
        // printf %s t0ken-for-tests | sha256sum
        let digest = "17a5ba082b3a539b878e358a0ec09329a6c535ae49bb79c2c5258011236cf3c6"
        try "[http]\nlisten = \"127.0.0.1:0\"\nadmin_token_sha256 = [\"\(digest)\"]\nmax_body = \"200\"\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let d = try await ListeningDaemon(store: dir.path + "/store", inbox: dir.path + "/inbox", log: dir.path + "/run.log",
                                          extra: ["--config", config], listen: false)
        let anonymous = try await get(d.port, "/api/v1/stats?format=csv")
        #expect(anonymous.status == 401, "\(anonymous.status) \(anonymous.body)")
        let admin = [("Authorization", "Bearer t0ken-for-tests")]
        let stats = try await request(d.port, "/api/v1/stats?format=csv", headers: admin)
        #expect(stats.status == 200, "\(stats.status) \(stats.body)")
        let small = try await request(d.port, "/write?precision=s", method: .POST, headers: admin, body: Array("cfg,vehicle_id=v1 x=1i 1735689600\n".utf8))
        #expect(small.status == 204, "\(small.status) \(small.body)")
        let big = String(repeating: "cfg,vehicle_id=v1 x=1i 1735689600\n", count: 10)
        let refused = try await request(d.port, "/write?precision=s", method: .POST, headers: admin, body: Array(big.utf8))
        #expect(refused.status == 413, "\(refused.status) \(refused.body)")
        await d.stop()

        // A typo in [http] stops tacho run before it does anything, naming the file's line.
        try "[http]\nlisten = \"127.0.0.1:0\"\nmax_bodyy = \"200\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
        p.arguments = ["run", "--store", dir.path + "/store2", "--inbox", dir.path + "/inbox2", "--config", config]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 64, "exit \(p.terminationStatus): \(text)")
        #expect(text.contains("\(config):3:") && text.contains("did you mean 'max_body'?"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/store2"), "a store was created despite the bad config")
    }

    static func inboxFiles(_ inbox: String) -> [String] {
        let top = ((try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? []).filter { !$0.hasPrefix(".") }
        let claimed = (try? FileManager.default.contentsOfDirectory(atPath: inbox + "/.tacho-claimed")) ?? []
        return top + claimed
    }

    static func inboxIsEmpty(_ inbox: String) -> Bool { inboxFiles(inbox).isEmpty }
}

/// What the clients were told is durable.
actor Acknowledged {
    private(set) var rows: Set<String> = []
    private(set) var problems: [String] = []
    /// Set when the server is being stopped: clients send nothing new.
    private(set) var stopped = false
    var count: Int { rows.count }

    func stop() { stopped = true }

    func add(client: Int, _ seqs: Range<Int>) {
        for s in seqs { rows.insert("c\(client) \(s)") }
    }

    func unexpected(_ s: String) { problems.append(s) }
}

/// `tacho run --listen 127.0.0.1:0` on a store and an inbox, its log in a file (a pipe
/// would fill up and stall it); the port is read from the log.
final class ListeningDaemon {
    let process: Process
    let port: Int
    let log: String
    var pid: Int32 { process.processIdentifier }
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    init(store: String, inbox: String, log: String, extra: [String] = [], listen: Bool = true) async throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
        p.arguments = ["run", "--store", store, "--inbox", inbox, "--compact-every", "0"] + (listen ? ["--listen", "127.0.0.1:0"] : []) + extra
        p.environment = childEnvironment(["TACHO_CONFIG": ""])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardError = handle
        p.standardOutput = handle
        try p.run()
        var port: Int?
        _ = await eventually(30) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[r.upperBound...].prefix { $0.isNumber })
            }
            return port != nil || !p.isRunning
        }
        process = p
        guard let port else {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            throw HarnessError("tacho run --listen did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    /// SIGTERM, and wait for the exit (SIGKILL after 20 s).
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        if await !eventually(20, { !process.isRunning }) { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Polls `cond` every 20 ms for up to `seconds`, sleeping without holding a thread of the
/// cooperative pool (other suites run beside this one); its last answer.
func eventually(_ seconds: Double, _ cond: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await cond() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await cond()
}
