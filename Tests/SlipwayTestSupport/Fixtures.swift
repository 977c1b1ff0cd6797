import Foundation

/// Files under `Tests/Fixtures`, read from the source tree.
public enum Fixtures {
    /// The directory `Tests/Fixtures`.
    public static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }

    /// The path of the fixture `name`.
    public static func path(_ name: String) -> String {
        directory + "/" + name
    }
}
