import Foundation

/// Paths of the executables built beside the test bundle.
public enum BuiltProducts {
    /// The directory holding the test bundle and the package's executables.
    public static var directory: String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: executable)
        // On Linux the test runner is `<products>/<package>PackageTests.xctest`; elsewhere it sits deeper.
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("slipway-demo-app").path) {
                return url.path
            }
        }
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    /// The path of the built executable `name`.
    public static func path(_ name: String) -> String {
        directory + "/" + name
    }
}
