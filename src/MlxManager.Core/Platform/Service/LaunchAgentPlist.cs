using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace MlxManager.Core.Platform.Service;

/// <summary>Writes a <see cref="ServiceDefinition"/> as a launchd property list (<c>~/Library/LaunchAgents/&lt;label&gt;.plist</c>).</summary>
public static class LaunchAgentPlist
{
    /// <summary>The plist: Label, ProgramArguments, WorkingDirectory, RunAtLoad, KeepAlive, output paths, EnvironmentVariables.</summary>
    public static string Render(ServiceDefinition service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var dict = new XElement("dict",
            Key("Label"), new XElement("string", service.Label),
            Key("ProgramArguments"), new XElement("array", service.ProgramArguments.Select(a => new XElement("string", a))),
            Key("WorkingDirectory"), new XElement("string", service.WorkingDirectory),
            Key("RunAtLoad"), new XElement("true"),
            // Restarted when it exits for any reason, but not in a tight loop (launchd's ThrottleInterval, 10 s by default).
            Key("KeepAlive"), new XElement("true"),
            Key("ProcessType"), new XElement("string", "Interactive"),
            Key("StandardOutPath"), new XElement("string", service.StandardOutPath),
            Key("StandardErrorPath"), new XElement("string", service.StandardErrorPath),
            Key("EnvironmentVariables"), new XElement("dict", service.Environment.SelectMany(v => new object[] { Key(v.Key), new XElement("string", v.Value) })));
        var document = new XDocument(
            new XDeclaration("1.0", "UTF-8", null),
            new XDocumentType("plist", "-//Apple//DTD PLIST 1.0//EN", "http://www.apple.com/DTDs/PropertyList-1.0.dtd", null),
            new XElement("plist", new XAttribute("version", "1.0"), dict));
        var builder = new StringBuilder();
        using (var writer = XmlWriter.Create(new Utf8StringWriter(builder), new XmlWriterSettings { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false) }))
        {
            document.Save(writer);
        }

        return builder.Append('\n').ToString();
    }

    private static XElement Key(string name) => new("key", name);

    private sealed class Utf8StringWriter(StringBuilder builder) : StringWriter(builder)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
