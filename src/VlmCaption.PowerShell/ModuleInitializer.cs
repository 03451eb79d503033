using System.Reflection;
using System.Runtime.InteropServices;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// Loads VlmCaption.Core and its dependencies from Dependencies/ without clashing with the versions other
    /// modules bring (Az and PSResourceGet bring System.ClientModel and System.Memory.Data, powershell-yaml brings
    /// YamlDotNet). On PowerShell 7 they go into a private AssemblyLoadContext; on Windows PowerShell 5.1, which has
    /// none, they are loaded from the folder on demand. This assembly itself touches only VlmCaption.Core types.
    /// VlmCaption.Types, the public output types without dependencies, sits beside this assembly and loads into
    /// the default context, where PowerShell's type names ([VlmCaption.CaptionResult]) can find it.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private const string TypesAssembly = "VlmCaption.Types";
        private static readonly string ModuleFolder = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        private static readonly string DependencyFolder = Path.Combine(ModuleFolder, "Dependencies");
        private const string CoreBuildFolder = "netcoreapp3.1";

        // Ahead-of-time compiled copies of the dependencies (ReadyToRun), made by build.ps1 for the .NET and the
        // platform it ran on: used only by that .NET major version on that platform, where they save the JIT about
        // 1 400 methods a run, CPU a server on the same machine would otherwise lose. Elsewhere the runtime would
        // ignore their native code anyway; the portable copies are used.
        private static readonly string ReadyToRunFolder = Path.Combine(DependencyFolder, "ReadyToRun", ReadyToRunName());
        private static readonly Dictionary<string, Assembly> Isolated = LoadIsolated();

        /// <inheritdoc />
        public void OnImport()
        {
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;

            // Loaded now, not when a cmdlet first needs it, so scripts can name [VlmCaption.CaptionResult] right after Import-Module.
            Assembly.LoadFrom(Path.Combine(ModuleFolder, TypesAssembly + ".dll"));
        }

        /// <inheritdoc />
        public void OnRemove(PSModuleInfo psModuleInfo) => AppDomain.CurrentDomain.AssemblyResolve -= Resolve;

        private static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            string name = new AssemblyName(args.Name).Name ?? "";
            if (name == TypesAssembly)
            {
                // Asked for by this assembly and, through the default context, by VlmCaption.Core: one copy for both.
                return Assembly.LoadFrom(Path.Combine(ModuleFolder, TypesAssembly + ".dll"));
            }

            if (Isolated.Count > 0)
            {
                // PowerShell 7: only this module asks for VlmCaption.Core; everything below it binds inside the private context.
                return name == "VlmCaption.Core" && Isolated.TryGetValue(name, out Assembly? core) ? core : null;
            }

            string candidate = Path.Combine(DependencyFolder, name + ".dll");
            return File.Exists(candidate) ? Assembly.LoadFrom(candidate) : null;
        }

        /// <summary>
        /// On .NET (Core) creates the private context and loads into it every dependency the runtime does not
        /// already provide at the same or a newer version. Loading them all up front matters: a context without a
        /// Load override falls back to the default context first, which may hold another module's older copy.
        /// </summary>
        private static Dictionary<string, Assembly> LoadIsolated()
        {
            var loaded = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
            Type? contextType = typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext");
            if (contextType is null)
            {
                return loaded;
            }

            object context = contextType.GetConstructor(new[] { typeof(string), typeof(bool) })!.Invoke(new object[] { "VlmCaption", false });
            MethodInfo loadFromPath = contextType.GetMethod("LoadFromAssemblyPath", new[] { typeof(string) })!;
            Dictionary<string, Version> platform = PlatformAssemblies();
            foreach (string portable in Directory.EnumerateFiles(DependencyFolder, "*.dll"))
            {
                // A build compiled ahead for this runtime, else one made for .NET (Core) where the module has one
                // (ImageSharp's, with hardware intrinsics), else the portable one.
                string ready = Path.Combine(ReadyToRunFolder, Path.GetFileName(portable));
                string core = Path.Combine(DependencyFolder, CoreBuildFolder, Path.GetFileName(portable));
                string file = File.Exists(ready) ? ready : File.Exists(core) ? core : portable;
                AssemblyName name = AssemblyName.GetAssemblyName(file);
                if (name.Name is null || (platform.TryGetValue(name.Name, out Version? provided) && provided >= (name.Version ?? new Version())))
                {
                    continue;
                }

                loaded[name.Name] = (Assembly)loadFromPath.Invoke(context, new object[] { file })!;
            }

            return loaded;
        }

        /// <summary>
        /// The folder name build.ps1 gives ReadyToRun copies for this runtime: "net10.0-linux-x64" on .NET 10 on
        /// 64-bit Linux. Environment.Version is the runtime's own version on .NET Core 3.0 and later.
        /// </summary>
        internal static string ReadyToRunName()
        {
            string os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win" : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx" : "linux";
            string architecture = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
            return $"net{Environment.Version.Major}.0-{os}-{architecture}";
        }

        /// <summary>The assemblies the runtime and PowerShell ship (the trusted platform assemblies), with their versions.</summary>
        private static Dictionary<string, Version> PlatformAssemblies()
        {
            var versions = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
            string list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
            foreach (string path in list.Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
            {
                string simpleName = Path.GetFileNameWithoutExtension(path);
                if (!File.Exists(Path.Combine(DependencyFolder, simpleName + ".dll")))
                {
                    continue;
                }

                try
                {
                    versions[simpleName] = AssemblyName.GetAssemblyName(path).Version ?? new Version();
                }
                catch (BadImageFormatException)
                {
                    // A native library in the list: not a candidate.
                }
            }

            return versions;
        }
    }
}
