import SlipwayConfig
import SlipwayCore
import Testing

@Suite("Duration text")
struct DurationTextTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("2s", .seconds(2)),
        ("1m30s", .seconds(90)),
        ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)),
        ("0s", .zero),
        ("0", .zero),
        ("750us", .microseconds(750)),
        ("2µs", .microseconds(2)),
        ("1h2m3s4ms5us", .seconds(3723) + .milliseconds(4) + .microseconds(5)),
        (".5s", .milliseconds(500)),
        ("0.1s", .milliseconds(100)),
        ("1.5h", .seconds(5400)),
    ])
    func parses(text: String, duration: Duration) {
        #expect(DurationText.parse(text) == duration)
    }

    @Test(arguments: [
        "", "5", "1.5", "-1s", "+1s", "s", "1x", "1 s", "1S", "1s1m", "1s2s", "1.s", "1..5s", "0.0000000001s",
        "99999999999999999999h",
    ])
    func rejects(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.seconds(90), "1m30s"),
        (.milliseconds(250), "250ms"),
        (.seconds(2), "2s"),
        (.zero, "0s"),
        (.seconds(3600), "1h"),
        (.seconds(5400), "1h30m"),
        (.milliseconds(1500), "1.5s"),
        (.milliseconds(90_250), "1m30.25s"),
        (.microseconds(1500), "1.5ms"),
        (.microseconds(20), "20us"),
        (.nanoseconds(1), "0.001us"),
    ])
    func formats(duration: Duration, text: String) {
        #expect(DurationText.format(duration) == text)
    }

    @Test func formatAndParseRoundTrip() {
        let samples: [Duration] = [
            .zero, .nanoseconds(1), .nanoseconds(999), .microseconds(1), .milliseconds(1), .milliseconds(999),
            .seconds(1), .seconds(59), .seconds(61), .seconds(3599), .seconds(3601), .seconds(86_400 * 3 + 7),
            .nanoseconds(123_456_789_012),
        ]
        for duration in samples {
            #expect(DurationText.parse(DurationText.format(duration)) == duration, "\(duration)")
        }
        for text in ["250ms", "2s", "1m30s", "1h", "1.5s", "1h1m1s", "12us"] {
            #expect(DurationText.parse(text).map(DurationText.format) == text)
        }
    }
}
