using System.Globalization;
using System.Xml.Linq;

namespace Orleans.MoE.Training.Tests.Reports;

/// <summary>Parses rendered SVG and reads back what the tests check.</summary>
internal static class SvgAssert
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>Parses <paramref name="svg"/> as XML (throwing if it is not well-formed) and checks the root and its viewBox.</summary>
    public static XElement Parse(string svg)
    {
        var root = XDocument.Parse(svg).Root!;
        Assert.Equal(Svg + "svg", root.Name);
        var viewBox = root.Attribute("viewBox")!.Value.Split(' ').Select(Number).ToArray();
        Assert.Equal([0, 0, Number(root.Attribute("width")!.Value), Number(root.Attribute("height")!.Value)], viewBox);
        return root;
    }

    public static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    public static double Attr(XElement e, string name) => Number(e.Attribute(name)!.Value);

    public static IEnumerable<XElement> Texts(XElement root) => root.Descendants(Svg + "text");

    public static IEnumerable<XElement> WithClass(XElement root, string element, string cssClass) =>
        root.Descendants(Svg + element).Where(e => (string?)e.Attribute("class") == cssClass);

    /// <summary>The group drawing the series (or reference line) labelled <paramref name="label"/>.</summary>
    public static XElement Group(XElement root, string cssClass, string label) =>
        root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == cssClass && (string?)g.Attribute("data-label") == label);

    public static List<(double X, double Y)> PolylinePoints(XElement polyline) =>
        polyline.Attribute("points")!.Value.Split(' ')
            .Select(p => p.Split(','))
            .Select(p => (Number(p[0]), Number(p[1])))
            .ToList();
}
