import Foundation
import Testing
@testable import TachoJSON
import TachoTime
import TachoTestSupport

/// Test-only reference: count days year by year / month by month (obviously correct, slow).
func referenceMicros(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, micros: Int = 0,
                     offsetMinutes: Int = 0) -> Int64 {
    func leap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
    var days = 0
    if y >= 1970 {
        for yy in 1970..<y { days += leap(yy) ? 366 : 365 }
    } else {
        for yy in y..<1970 { days -= leap(yy) ? 366 : 365 }
    }
    let monthDays = [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for mm in 0..<(mo - 1) { days += monthDays[mm] }
    days += d - 1
    let secs = Int64(days) * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offsetMinutes * 60)
    return secs * 1_000_000 + Int64(micros)
}

@Suite struct TimestampTests {
    @Test func acceptedFormats() {
        let base = referenceMicros(2022, 6, 5, 21, 2, 34, micros: 546_000)
        #expect(base == 1_654_462_954_546_000)
        let cases: [(String, Int64)] = [
            ("2022-06-05T21:02:34.546Z", base),
            ("2022-06-05t21:02:34.546z", base),
            ("2022-06-05 21:02:34.546", base),
            ("2022-06-05 21:02:34.546Z", base),
            ("2022-06-05T21:02:34.546", base),
            ("2022-06-05T23:02:34.546+02:00", base),
            ("2022-06-05T15:32:34.546-05:30", base),
            ("2022-06-05T21:02:34.546-00:00", base),
            ("2022-06-05T21:02:34Z", base - 546_000),
            ("2022-06-05 21:02:34", base - 546_000),
            ("2022-06-05T21:02:34.5Z", base - 46_000),
            ("2022-06-05T21:02:34.546123Z", base + 123),
            ("2022-06-05T21:02:34.546123999Z", base + 123),  // truncated, not rounded
            ("2022-06-05T21:02:34.5461239Z", base + 123),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999999Z", -1),
            ("0001-01-01T00:00:00Z", referenceMicros(1, 1, 1, 0, 0, 0)),
            ("9999-12-31T23:59:59.999999Z", referenceMicros(9999, 12, 31, 23, 59, 59, micros: 999_999)),
            ("2024-02-29T12:00:00Z", referenceMicros(2024, 2, 29, 12, 0, 0)),
            ("2000-02-29T00:00:00Z", referenceMicros(2000, 2, 29, 0, 0, 0)),
            ("2016-12-31T23:59:60Z", referenceMicros(2016, 12, 31, 23, 59, 59, micros: 999_999)),
            ("2016-12-31T23:59:60.5Z", referenceMicros(2016, 12, 31, 23, 59, 59, micros: 999_999)),
            ("2022-01-01T00:30:00+23:59", referenceMicros(2022, 1, 1, 0, 30, 0, offsetMinutes: 23 * 60 + 59)),
        ]
        for (text, expected) in cases {
            #expect(Timestamp.parseMicros(text) == expected, "\(text)")
        }
    }

    @Test func rejectedInputs() {
        let bad = [
            "", "2022-06-05", "2022-06-05T21:02", "2022-06-05T21:02:34.", "2022-06-05T21:02:34.1234567890Z",
            "2022-13-01T00:00:00Z", "2022-00-01T00:00:00Z", "2022-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
            "2022-04-31T00:00:00Z", "2022-01-00T00:00:00Z", "2022-01-01T24:00:00Z", "2022-01-01T23:60:00Z",
            "2022-01-01T23:59:61Z", "0000-01-01T00:00:00Z", "2022-06-05X21:02:34Z", "2022-06-05T21:02:34+0200",
            "2022-06-05T21:02:34+24:00", "2022-06-05T21:02:34+02:60", "2022-06-05T21:02:34Zjunk",
            " 2022-06-05T21:02:34Z", "2022-06-05T21:02:34Z ", "22-06-05T21:02:34Z", "2022/06/05T21:02:34Z",
            "2022-6-05T21:02:34Z", "２０２２-06-05T21:02:34Z", "2022-06-05T21:02:34.54６Z", "2022-06-05T21:02:34+02",
        ]
        for text in bad {
            #expect(Timestamp.parseMicros(text) == nil, "\(text)")
        }
    }

    /// Milliseconds when the sub-millisecond part is zero, else microseconds: two distinct
    /// stored times never print alike (issue 12, item 6).
    @Test func formatMillisOrMicros() {
        #expect(Timestamp.format(1_654_462_954_546_000) == "2022-06-05T21:02:34.546Z")
        #expect(Timestamp.format(1_654_462_954_546_999) == "2022-06-05T21:02:34.546999Z")
        #expect(Timestamp.format(1_654_462_954_546_120) == "2022-06-05T21:02:34.546120Z")
        #expect(Timestamp.format(1_654_462_954_000_100) == "2022-06-05T21:02:34.000100Z")
        #expect(Timestamp.format(1_654_462_954_000_200) == "2022-06-05T21:02:34.000200Z")
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp.format(-1000) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(-1001) == "1969-12-31T23:59:59.998999Z")
        #expect(Timestamp.format(951_782_400_000_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.format(referenceMicros(1, 1, 1, 0, 0, 0)) == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp.format(referenceMicros(9999, 12, 31, 23, 59, 59, micros: 999_999))
                == "9999-12-31T23:59:59.999999Z")
        var out = Array("x,".utf8)
        Timestamp.append(1_654_462_954_546_000, to: &out)
        Timestamp.append(1_654_462_954_546_001, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x,2022-06-05T21:02:34.546Z2022-06-05T21:02:34.546001Z")
        #expect(Timestamp.format(Int64.max) == "+294247-01-10T04:00:54.775807Z")
        #expect(Timestamp.format(Int64.min) == "-290308-12-21T19:59:05.224192Z")
    }

    @Test func randomRoundTripAgainstReferences() {
        var rng = SplitMix64(seed: 2024)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let lo = referenceMicros(1, 1, 1, 0, 0, 0)
        let hi = referenceMicros(9999, 12, 31, 23, 59, 59, micros: 999_999)
        for i in 0..<20_000 {
            let micros = i % 2 == 0 ? Int64.random(in: lo...hi, using: &rng)
                : Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &rng)
            let text = Timestamp.format(micros)
            #expect(Timestamp.parseMicros(text) == micros, "\(micros) → \(text)")
            #expect(text.count == ((micros % 1000 == 0) ? 24 : 27), "\(micros) → \(text)")
            // Compare the civil fields with a reference computation.
            let secs = Int(Timestamp.floorDiv(micros, 1_000_000))
            if i % 10 == 0 {
                let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                                from: Date(timeIntervalSince1970: TimeInterval(secs)))
                let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!,
                                      c.hour!, c.minute!, c.second!)
                // Foundation's Gregorian calendar switches to Julian before 1582; compare after.
                if c.year! > 1583 { #expect(text.hasPrefix(expected), "\(text) vs \(expected)") }
            }
            let (y, mo, d) = Timestamp.civilFromDays(Timestamp.floorDiv(micros, 86_400_000_000))
            if y >= 1 && y <= 9999 {
                let ref = referenceMicros(Int(y), mo, d, 0, 0, 0)
                #expect(ref == Timestamp.floorDiv(micros, 86_400_000_000) * 86_400_000_000)
            }
        }
    }

    @Test func offsetsAndZonesAgree() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let micros = Int64.random(in: 0...4_000_000_000_000_000, using: &rng) / 1000 * 1000
            let utc = Timestamp.format(micros)
            let offset = Int.random(in: -(23 * 60 + 59)...(23 * 60 + 59), using: &rng)
            let local = Timestamp.format(micros + Int64(offset) * 60_000_000)
            let sign = offset < 0 ? "-" : "+"
            let zone = String(format: "%@%02d:%02d", sign, abs(offset) / 60, abs(offset) % 60)
            let shifted = String(local.dropLast()) + zone
            #expect(Timestamp.parseMicros(shifted) == micros, "\(shifted) vs \(utc)")
            let spaced = utc.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
            #expect(Timestamp.parseMicros(spaced) == micros)
        }
    }

    @Test func parsesStringTokenBytesWithoutAllocation() throws {
        let p = JSONParser(bytes: Array(#"{"t":"2022-06-05T21:02:34.546Z"}"#.utf8))
        _ = try p.next()
        _ = try p.next()
        #expect(try p.next() == .string)
        let micros = p.withStringBytes { Timestamp.parseMicros($0) }
        #expect(micros == 1_654_462_954_546_000)
    }
}
