import Foundation
import SlipwayDemoService
import Testing

@Suite struct DemoOptionsTests {
    @Test func defaultsWhenTheEnvironmentIsEmpty() throws {
        let options = try DemoOptions.fromEnvironment([:])
        #expect(options.host == "127.0.0.1")
        #expect(options.port == nil)
        #expect(options.app == "demo")
        #expect(options.version == "dev")
        #expect(options.instance == "pid-\(getpid())")
        #expect(options.errorRate == 0)
        #expect(options.latency == .zero)
        #expect(options.slowFirst == 0)
        #expect(options.slowFirstLatency == .milliseconds(300))
        #expect(options.startupDelay == .zero)
        #expect(options.crashAfter == nil)
        #expect(options.failHealth == false)
        #expect(options.failHealthAfter == nil)
    }

    @Test func readsEveryKnobFromItsVariable() throws {
        let options = try DemoOptions.fromEnvironment([
            "DEMO_HOST": "0.0.0.0",
            "PORT": "8080",
            "SLIPWAY_APP": "shop",
            "SLIPWAY_VERSION": "v2",
            "SLIPWAY_INSTANCE": "green-3",
            "DEMO_ERROR_RATE": "0.1",
            "DEMO_LATENCY": "50ms",
            "DEMO_SLOW_FIRST": "20",
            "DEMO_SLOW_FIRST_LATENCY": "1s",
            "DEMO_STARTUP_DELAY": "2s",
            "DEMO_CRASH_AFTER": "7",
            "DEMO_FAIL_HEALTH": "true",
            "DEMO_FAIL_HEALTH_AFTER": "9",
            "DEMO_DEPENDENCY": "http://127.0.0.1:9000/items",
            "DEMO_DEPENDENCY_TIMEOUT": "100ms",
        ])
        var expected = DemoOptions()
        expected.host = "0.0.0.0"
        expected.port = 8080
        expected.app = "shop"
        expected.version = "v2"
        expected.instance = "green-3"
        expected.errorRate = 0.1
        expected.latency = .milliseconds(50)
        expected.slowFirst = 20
        expected.slowFirstLatency = .seconds(1)
        expected.startupDelay = .seconds(2)
        expected.crashAfter = 7
        expected.failHealth = true
        expected.failHealthAfter = 9
        expected.dependency = "http://127.0.0.1:9000/items"
        expected.dependencyTimeout = .milliseconds(100)
        #expect(options == expected)
    }

    @Test func emptyVariablesKeepDefaults() throws {
        let options = try DemoOptions.fromEnvironment(["PORT": "", "SLIPWAY_APP": "", "DEMO_FAIL_HEALTH": ""])
        #expect(options == DemoOptions())
    }

    @Test func flagsOverrideTheEnvironment() throws {
        var options = try DemoOptions.fromEnvironment(["PORT": "8080", "DEMO_ERROR_RATE": "0.5"])
        try options.set(.port, to: "9090", from: .flag)
        try options.set(.errorRate, to: "0", from: .flag)
        #expect(options.port == 9090)
        #expect(options.errorRate == 0)
    }

    @Test(arguments: [
        (DemoSetting.port, "http"), (.port, "70000"), (.errorRate, "2"), (.errorRate, "-0.1"), (.errorRate, "x"),
        (.latency, "fast"), (.slowFirst, "-1"), (.slowFirstLatency, "1y"), (.startupDelay, "-2s"),
        (.crashAfter, "0"), (.failHealth, "maybe"), (.failHealthAfter, "many"), (.host, ""), (.conversionRate, "1.5"),
    ])
    func rejectsBadValuesNamingTheKnob(setting: DemoSetting, value: String) throws {
        var options = DemoOptions()
        let flagError = #expect(throws: DemoOptionError.self) { try options.set(setting, to: value, from: .flag) }
        #expect(flagError == .invalidValue(setting: setting, source: .flag, value: value))
        #expect(flagError?.description.contains(setting.flag) == true)
        #expect(flagError?.description.contains(setting.expectation) == true)
        #expect(options == DemoOptions())
        guard !value.isEmpty else { return }
        let environmentError = #expect(throws: DemoOptionError.self) {
            try DemoOptions.fromEnvironment([setting.environmentVariable: value])
        }
        #expect(environmentError?.description.contains(setting.environmentVariable) == true)
    }

    @Test func errorRateMessageIsOneReadableLine() {
        let error = DemoOptionError.invalidValue(setting: .errorRate, source: .flag, value: "2")
        #expect(error.description == "invalid value '2' for --error-rate: expected a number from 0 to 1")
        #expect(!DemoOptionError.missingPort.description.contains("\n"))
        #expect(DemoOptionError.missingPort.description.contains("--port"))
        #expect(DemoOptionError.missingPort.description.contains("PORT"))
    }
}
