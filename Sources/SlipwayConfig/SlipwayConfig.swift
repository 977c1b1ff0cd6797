/// A loaded and validated configuration file.
public struct SlipwayConfig: Sendable, Equatable {
    /// The path of the configuration file, as it was given.
    public var file: String
    /// The absolute directory containing the file; relative paths in the file are resolved against it.
    public var baseDirectory: String
    /// The controller's settings.
    public var controller: ControllerSpec
    /// The apps, in the order of the file.
    public var apps: [AppSpec]

    /// Creates a configuration.
    public init(file: String, baseDirectory: String, controller: ControllerSpec, apps: [AppSpec]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.controller = controller
        self.apps = apps
    }

    /// The app called `named`, if there is one.
    public func app(named: String) -> AppSpec? {
        apps.first { $0.name == named }
    }
}
