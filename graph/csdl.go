package graph

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ParseCSDL reads a CSDL XML document, such as Graph's $metadata, and
// returns its model. It keeps only what a Model holds: types, the entity
// container, and the annotations that make a property read-only, written
// inside a <Property> or in an <Annotations Target="type/property"> block.
// Names may use a schema's alias, and annotation terms a vocabulary's
// alias (<edmx:Include Alias="Core">). Annotations with a Qualifier are
// ignored.
//
// A type that is referenced but not defined does not fail the parse: it
// becomes a KindUnknown type listed by Missing, so a partial document
// still loads. Resolve reports such types when a path needs them.
func ParseCSDL(r io.Reader) (*Model, error) {
	p := &csdlParser{aliases: map[string]string{}}
	d := xml.NewDecoder(r)
	d.CharsetReader = utf16Declared
	if err := p.run(d); err != nil {
		return nil, fmt.Errorf("csdl: %w", err)
	}
	m, err := p.build()
	if err != nil {
		return nil, fmt.Errorf("csdl: %w", err)
	}
	return m, nil
}

// utf16Declared lets a document that declares encoding="utf-16" through:
// the decoder reads UTF-8 only, so if it could read the declaration, the
// text was transcoded already (as LoadModel does).
func utf16Declared(label string, r io.Reader) (io.Reader, error) {
	if strings.EqualFold(label, "utf-16") {
		return r, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (save the file as UTF-8)", label)
}

// The annotation terms that make a property read-only.
const (
	coreComputed    = "Org.OData.Core.V1.Computed"
	coreImmutable   = "Org.OData.Core.V1.Immutable"
	corePermissions = "Org.OData.Core.V1.Permissions"
)

// csdlParser collects a document's elements as it streams through them;
// build then resolves the names they refer to.
type csdlParser struct {
	stack   []string // local names of the open elements
	ns      string   // the current schema's namespace
	aliases map[string]string
	types   []*rawType
	roots   []rawRoot
	blocks  []blockAnnotation

	typ    *rawType       // the open type element, if any
	prop   *rawProp       // the open <Property>, if any
	target string         // the open <Annotations>'s Target, if any
	ann    *rawAnnotation // the annotation being read, if any
	annAt  int            // len(stack) inside that annotation
	text   *strings.Builder
}

type rawType struct {
	t     *DataType
	base  string
	props []*rawProp
	navs  []rawNav
}

type rawProp struct {
	p    *Prop
	typ  string
	anns []rawAnnotation
}

type rawNav struct {
	n   *NavProp
	typ string
}

type rawRoot struct {
	r   *Root
	typ string
}

// rawAnnotation is one <Annotation>: its term as written and its value.
type rawAnnotation struct {
	term  string
	expr  string // "" (no value), "Bool", "EnumMember", or another expression's name
	value string
}

type blockAnnotation struct {
	target string
	rawAnnotation
}

func (p *csdlParser) run(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if err := p.start(tok); err != nil {
				return err
			}
		case xml.EndElement:
			p.end()
		case xml.CharData:
			if p.text != nil {
				p.text.Write(tok)
			}
		}
	}
	if p.ns == "" {
		return errors.New("no <Schema> element: not a CSDL document")
	}
	return nil
}

func (p *csdlParser) start(e xml.StartElement) error {
	parent := ""
	if n := len(p.stack); n > 0 {
		parent = p.stack[n-1]
	} else if e.Name.Local != "Edmx" {
		return fmt.Errorf("not a CSDL document: the root element is <%s>, not <edmx:Edmx>", e.Name.Local)
	}
	p.stack = append(p.stack, e.Name.Local)
	switch e.Name.Local {
	case "Include", "Schema":
		p.schema(e)
	case "EntityType", "ComplexType", "EnumType":
		p.startType(e)
	case "Member", "PropertyRef", "Property", "NavigationProperty":
		p.member(e, parent)
	case "EntitySet", "Singleton":
		p.root(e, parent)
	case "Annotations":
		p.target = ""
		if attr(e, "Qualifier") == "" {
			p.target = attr(e, "Target")
		}
	case "Annotation":
		p.startAnnotation(e, parent)
	case "Bool", "EnumMember":
		if p.ann != nil && len(p.stack) == p.annAt+1 {
			p.ann.expr = e.Name.Local
			p.text = &strings.Builder{}
		}
	}
	return nil
}

func (p *csdlParser) end() {
	n := len(p.stack)
	if n == 0 {
		return
	}
	switch p.stack[n-1] {
	case "EntityType", "ComplexType", "EnumType":
		p.typ = nil
	case "Property":
		p.prop = nil
	case "Annotations":
		p.target = ""
	case "Annotation":
		if p.ann != nil && n == p.annAt {
			p.endAnnotation()
		}
	case "Bool", "EnumMember":
		if p.text != nil {
			p.ann.value = strings.TrimSpace(p.text.String())
			p.text = nil
		}
	}
	p.stack = p.stack[:n-1]
}

// schema records a <Schema>'s namespace and the aliases of schemas and of
// included vocabularies.
func (p *csdlParser) schema(e xml.StartElement) {
	ns := attr(e, "Namespace")
	if e.Name.Local == "Schema" {
		p.ns = ns
	}
	if alias := attr(e, "Alias"); alias != "" && ns != "" {
		p.aliases[alias] = ns
	}
}

func (p *csdlParser) startType(e xml.StartElement) {
	t := &DataType{
		Name:     p.ns + "." + attr(e, "Name"),
		Abstract: attr(e, "Abstract") == "true",
		Open:     attr(e, "OpenType") == "true",
		Flags:    attr(e, "IsFlags") == "true",
	}
	switch e.Name.Local {
	case "EntityType":
		t.Kind = KindEntity
	case "ComplexType":
		t.Kind = KindComplex
	default:
		t.Kind = KindEnum
	}
	p.typ = &rawType{t: t, base: attr(e, "BaseType")}
	p.types = append(p.types, p.typ)
}

// member reads the children of a type element.
func (p *csdlParser) member(e xml.StartElement, parent string) {
	if p.typ == nil {
		return
	}
	t, name := p.typ.t, attr(e, "Name")
	switch {
	case e.Name.Local == "Member" && parent == "EnumType":
		t.Members = append(t.Members, name)
	case e.Name.Local == "PropertyRef" && parent == "Key":
		t.Key = append(t.Key, name)
	case e.Name.Local == "Property" && (parent == "EntityType" || parent == "ComplexType"):
		p.prop = &rawProp{p: &Prop{Name: name, Nullable: attr(e, "Nullable") != "false"}, typ: attr(e, "Type")}
		p.typ.props = append(p.typ.props, p.prop)
	case e.Name.Local == "NavigationProperty":
		n := &NavProp{Name: name, ContainsTarget: attr(e, "ContainsTarget") == "true"}
		p.typ.navs = append(p.typ.navs, rawNav{n: n, typ: attr(e, "Type")})
	}
}

func (p *csdlParser) root(e xml.StartElement, parent string) {
	if parent != "EntityContainer" {
		return
	}
	r := rawRoot{r: &Root{Name: attr(e, "Name"), Collection: e.Name.Local == "EntitySet"}, typ: attr(e, "Type")}
	if r.r.Collection {
		r.typ = attr(e, "EntityType")
	}
	p.roots = append(p.roots, r)
}

// startAnnotation begins reading an annotation on a property: inline in a
// <Property>, or in an <Annotations> block. Others are skipped.
func (p *csdlParser) startAnnotation(e xml.StartElement, parent string) {
	inline := parent == "Property" && p.prop != nil
	block := parent == "Annotations" && p.target != ""
	if (!inline && !block) || attr(e, "Qualifier") != "" {
		return
	}
	a := &rawAnnotation{term: attr(e, "Term")}
	for _, at := range e.Attr {
		if at.Name.Local != "Term" && at.Name.Local != "Qualifier" {
			a.expr, a.value = at.Name.Local, at.Value
		}
	}
	p.ann, p.annAt = a, len(p.stack)
}

func (p *csdlParser) endAnnotation() {
	a := *p.ann
	p.ann, p.text = nil, nil
	if p.target != "" {
		p.blocks = append(p.blocks, blockAnnotation{target: p.target, rawAnnotation: a})
	} else if p.prop != nil {
		p.prop.anns = append(p.prop.anns, a)
	}
}

// attr returns the value of e's attribute called name, or "".
func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// readOnly reports whether annotation a, whose term is qualified by
// namespace, says the property does not take writes.
func (a rawAnnotation) readOnly(term string) bool {
	switch term {
	case coreComputed, coreImmutable:
		switch a.expr {
		case "":
			return true // a tag term without a value means true
		case "Bool":
			return strings.EqualFold(a.value, "true")
		}
	case corePermissions:
		if a.expr != "EnumMember" || a.value == "" {
			return false
		}
		for _, member := range strings.Fields(a.value) {
			switch member[strings.LastIndexByte(member, '/')+1:] {
			case "Write", "ReadWrite":
				return false
			}
		}
		return true
	}
	return false
}
