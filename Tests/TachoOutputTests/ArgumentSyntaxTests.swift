import Testing
import TachoOutput
import TachoTime

@Suite struct ArgumentSyntaxTests {
    let now: Int64 = 1_654_462_954_546_000  // 2022-06-05T21:02:34.546Z

    @Test func absoluteTimes() throws {
        #expect(ArgumentSyntax.time("2022-06-05T21:02:34.546Z", now: 0) == now)
        #expect(ArgumentSyntax.time("2022-06-05T23:02:34.546+02:00", now: 0) == now)
        #expect(ArgumentSyntax.time("2022-06-05", now: 0) == Timestamp.parseMicros("2022-06-05T00:00:00Z"))
        #expect(ArgumentSyntax.time("now", now: now) == now)
    }

    @Test func relativeTimes() {
        #expect(ArgumentSyntax.time("-2h", now: now) == now - 7_200_000_000)
        #expect(ArgumentSyntax.time("+30m", now: now) == now + 1_800_000_000)
        #expect(ArgumentSyntax.time("-7d", now: now) == now - 7 * 86_400_000_000)
        #expect(ArgumentSyntax.time("-0h", now: now) == nil)
    }

    @Test(arguments: ["yesterdayish", "", "2022-13-01", "-2x", "2h", "2022-06-05T25:00:00Z"])
    func notTimes(_ s: String) {
        #expect(ArgumentSyntax.time(s, now: now) == nil)
        #expect(ArgumentSyntax.notATime(s).contains("\"\(s)\" is not a time"))
    }

    @Test func durationsAndLists() {
        #expect(ArgumentSyntax.durationMicros("15m") == 900_000_000)
        #expect(ArgumentSyntax.durationMicros("1w") == 604_800_000_000)
        #expect(ArgumentSyntax.durationMicros("0s") == nil)
        #expect(ArgumentSyntax.durationMicros("9999999999999999w") == nil)
        #expect(ArgumentSyntax.commaList(["a,b", "c", "b,,a", ""]) == ["a", "b", "c"])
    }
}
