using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>
/// Compiles a C# example of the docs with Roslyn, as a user's project would: against the project's assemblies and the
/// framework, with the global usings of an SDK project with <c>ImplicitUsings</c> and of the xunit project template
/// (<c>Xunit</c>) and nothing else, so every other namespace must be in the example's own <c>using</c> lines. Then runs
/// it: a program with top-level statements is run; every <c>[Fact]</c> of a test class is run as xunit would (a new
/// instance per test, disposed after it). A block with neither is only compiled.
/// </summary>
internal static class CSharpExamples
{
    private const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Xunit;
        """;

    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Latest);

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        // The framework and every assembly of this test project (the project's own, Akka, xunit, ...).
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(p => p.Length > 0)
            .GroupBy(p => Path.GetFileName(p), StringComparer.Ordinal)
            .Select(g => g.First());
        var references = new List<MetadataReference>();
        foreach (var path in paths)
        {
            try
            {
                _ = AssemblyName.GetAssemblyName(path);
                references.Add(MetadataReference.CreateFromFile(path));
            }
            catch (BadImageFormatException)
            {
                // A native library next to the tests.
            }
        }

        return [.. references];
    });

    /// <summary>Compiles and runs the example; returns what went wrong, nothing when it compiled and ran.</summary>
    public static IReadOnlyList<string> CompileAndRun(string code, string name) => CompileAndRun([(code, name)]);

    /// <summary>
    /// Compiles the files into one assembly (each <c>Name</c> is its path, which <c>[CallerFilePath]</c> gives) and runs
    /// it as <see cref="CompileAndRun(string, string)"/> does; returns what went wrong.
    /// </summary>
    public static IReadOnlyList<string> CompileAndRun(IReadOnlyList<(string Code, string Name)> files)
    {
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(f.Code, Parse, path: f.Name)).ToList();
        var isProgram = trees.Any(t => t.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any());
        var compilation = CSharpCompilation.Create(
            "DocExample_" + Guid.NewGuid().ToString("N"),
            [.. trees, CSharpSyntaxTree.ParseText(GlobalUsings, Parse, path: "GlobalUsings.g.cs")],
            References.Value,
            new CSharpCompilationOptions(
                isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable));

        using var image = new MemoryStream();
        var emit = compilation.Emit(image);
        var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (!emit.Success)
        {
            return [.. errors.Select(e => $"does not compile: {e}")];
        }

        image.Position = 0;
        var assembly = AssemblyLoadContext.Default.LoadFromStream(image);
        var problems = new List<string>();
        if (isProgram)
        {
            Invoke(assembly.EntryPoint!, null, assembly.EntryPoint!.GetParameters().Length == 0 ? [] : [Array.Empty<string>()], "the program", problems);
            return problems;
        }

        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (method.GetCustomAttributes().Any(a => a.GetType().Name == "TheoryAttribute"))
                {
                    problems.Add($"{type.Name}.{method.Name}: a [Theory] is not run by the doc tests; write [Fact]s");
                }

                if (!method.GetCustomAttributes().Any(a => a.GetType().Name == "FactAttribute"))
                {
                    continue;
                }

                var instance = Activator.CreateInstance(type);
                try
                {
                    Invoke(method, instance, [], $"{type.Name}.{method.Name}", problems);
                }
                finally
                {
                    (instance as IDisposable)?.Dispose();
                }
            }
        }

        return problems;
    }

    private static void Invoke(MethodInfo method, object? instance, object?[] args, string what, List<string> problems)
    {
        try
        {
            var result = method.Invoke(instance, args);
            if (result is Task task)
            {
                task.GetAwaiter().GetResult();
            }
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            problems.Add($"{what} failed: {ex.InnerException.GetType().Name}: {ex.InnerException.Message}");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            problems.Add($"{what} failed: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
