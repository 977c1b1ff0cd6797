/// A problem with the demo service's options; its description is a one-line message for the person starting it.
public enum DemoOptionError: Error, Equatable, CustomStringConvertible {
    /// A flag or environment variable held a value the knob cannot take.
    case invalidValue(setting: DemoSetting, source: DemoSettingSource, value: String)
    /// No port was given, neither by `--port` nor by `PORT`.
    case missingPort

    public var description: String {
        switch self {
        case .invalidValue(let setting, let source, let value):
            let name = source == .flag ? setting.flag : setting.environmentVariable
            return "invalid value '\(value)' for \(name): expected \(setting.expectation)"
        case .missingPort:
            return "no port given: pass \(DemoSetting.port.flag) or set \(DemoSetting.port.environmentVariable)"
        }
    }
}
