using Microsoft.PowerShell.Commands;

namespace VlmCaption.PowerShell
{
    /// <summary>Turns -Path (wildcards) and -LiteralPath values into file-system paths, writing an error for each one that is not a file.</summary>
    internal static class PathResolver
    {
        /// <summary>
        /// The files the paths name (Named: true) and the images of the folders they name (false), filtered by the
        /// patterns; folders piped in without <paramref name="recurse"/> are passed over, since Get-ChildItem -Recurse
        /// pipes their images too.
        /// </summary>
        public static IEnumerable<(string File, bool Named)> Expand(PSCmdlet cmdlet, string[] paths, bool literal, bool recurse, string[]? include, string[]? exclude)
        {
            foreach (string item in ResolveFiles(cmdlet, paths, literal, folders: true))
            {
                if (!Directory.Exists(item))
                {
                    yield return (item, true);
                }
                else if (cmdlet.MyInvocation.ExpectingInput && !recurse)
                {
                    cmdlet.WriteVerbose($"Passing over the folder '{item}'; its images come through the pipeline (or use -Recurse).");
                }
                else
                {
                    int found = 0;
                    foreach (string image in ImagesIn(cmdlet, item, recurse, include, exclude))
                    {
                        found++;
                        yield return (image, false);
                    }

                    if (found == 0)
                    {
                        // Nothing at all is no result a user should have to notice by its absence.
                        string filter = (include is { Length: > 0 } ? $" matching -Include {string.Join(", ", include)}" : "") + (exclude is { Length: > 0 } ? $" and not -Exclude {string.Join(", ", exclude)}" : "");
                        cmdlet.WriteWarning($"'{item}' holds no images{filter}{(recurse ? " in it or its subfolders" : " (its subfolders are looked into with -Recurse)")}.");
                    }
                }
            }
        }

        /// <summary>The images of a folder (and its subfolders when <paramref name="recurse"/>) whose names pass the wildcard patterns.</summary>
        private static IEnumerable<string> ImagesIn(PSCmdlet cmdlet, string folder, bool recurse, string[]? include, string[]? exclude)
        {
            var included = include?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
            var excluded = exclude?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
            foreach (string image in ImageWalker.Find(folder, recurse, (skipped, why) => cmdlet.WriteWarning($"'{skipped}' {why}.")))
            {
                string name = Path.GetFileName(image);
                if ((included is null || included.Any(p => p.IsMatch(name))) && (excluded is null || !excluded.Any(p => p.IsMatch(name))))
                {
                    yield return image;
                }
            }
        }

        /// <summary>The files the paths name; a folder is an error unless <paramref name="folders"/> is set, when it is returned too.</summary>
        public static IEnumerable<string> ResolveFiles(PSCmdlet cmdlet, string[] paths, bool literal, bool folders = false)
        {
            foreach (string path in paths)
            {
                ProviderInfo provider;
                var resolved = new List<string>();
                try
                {
                    if (literal)
                    {
                        resolved.Add(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _));
                    }
                    else
                    {
                        resolved.AddRange(cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out provider));
                    }
                }
                catch (ItemNotFoundException e)
                {
                    cmdlet.WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                    continue;
                }
                catch (System.Exception e) when (e is ProviderNotFoundException || e is System.Management.Automation.DriveNotFoundException || e is PSArgumentException)
                {
                    cmdlet.WriteError(new ErrorRecord(e, "PathNotValid", ErrorCategory.InvalidArgument, path));
                    continue;
                }

                if (provider.ImplementingType != typeof(FileSystemProvider))
                {
                    cmdlet.WriteError(new ErrorRecord(
                        new PSArgumentException($"'{path}' is on the {provider.Name} provider; only file-system paths hold images."),
                        "NotFileSystemPath",
                        ErrorCategory.InvalidArgument,
                        path));
                    continue;
                }

                foreach (string file in resolved)
                {
                    if (Directory.Exists(file) && folders)
                    {
                        yield return file;
                    }
                    else if (Directory.Exists(file))
                    {
                        cmdlet.WriteError(new ErrorRecord(
                            new PSArgumentException($"'{file}' is a folder; name a file."),
                            "PathIsFolder",
                            ErrorCategory.InvalidArgument,
                            file));
                    }
                    else if (!File.Exists(file))
                    {
                        cmdlet.WriteError(new ErrorRecord(
                            new FileNotFoundException($"Cannot find '{file}' because it does not exist.", file),
                            "PathNotFound",
                            ErrorCategory.ObjectNotFound,
                            file));
                    }
                    else
                    {
                        yield return file;
                    }
                }
            }
        }
    }
}
