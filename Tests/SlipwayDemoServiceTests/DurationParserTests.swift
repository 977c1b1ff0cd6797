import SlipwayDemoService
import Testing

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("2s", .seconds(2)),
        ("1m30s", .seconds(90)),
        ("1h", .seconds(3_600)),
        ("1.5s", .milliseconds(1_500)),
        ("40", .milliseconds(40)),
        ("0", .zero),
        ("1s500ms", .milliseconds(1_500)),
    ])
    func parsesValidDurations(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test(arguments: ["", "ms", "-5", "-1s", "2x", "1.2.3s", "abc", "25h", "nan", "inf", "s2"])
    func rejectsInvalidDurations(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }
}
