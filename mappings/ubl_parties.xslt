<?xml version="1.0" encoding="UTF-8"?>
<!-- A UBL party as a Peyvand customer: the cac:Party of an AccountingCustomerParty,
     BuyerCustomerParty... (UBL 2.0 and 2.1 share these namespaces). The pipeline's
     xml_files adapter selects the parties with record_xpath; each reaches this stylesheet
     as the root of a document of its own. Values go out raw: hub/standardize cleans them.
     The contract between a stylesheet and Peyvand: docs/adapters.md, "xml_files". -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    xmlns:pv="urn:peyvand:mapping:v1"
    exclude-result-prefixes="cac cbc pv">

  <pv:target>customer</pv:target>
  <xsl:output method="xml" encoding="UTF-8"/>

  <xsl:template match="/cac:Party">
    <fields>
      <field path="kind">organization</field>
      <!-- The trading name; a party with none is named by its registration. -->
      <field path="organization.name">
        <xsl:choose>
          <xsl:when test="cac:PartyName/cbc:Name">
            <xsl:value-of select="cac:PartyName[1]/cbc:Name"/>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="(cac:PartyLegalEntity | cac:PartyTaxScheme)[1]/cbc:RegistrationName"/>
          </xsl:otherwise>
        </xsl:choose>
      </field>
      <!-- The person to deal with: cac:Person when given, else the contact's name. -->
      <xsl:choose>
        <xsl:when test="cac:Person">
          <xsl:apply-templates select="cac:Person[1]"/>
        </xsl:when>
        <xsl:otherwise>
          <field path="name.full"><xsl:value-of select="cac:Contact[1]/cbc:Name"/></field>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:for-each select="cac:Contact/cbc:ElectronicMail">
        <field path="emails.email"><xsl:value-of select="."/></field>
      </xsl:for-each>
      <!-- A business line; a number that is a mobile is typed so by the standardizer. -->
      <xsl:for-each select="cac:Contact/cbc:Telephone">
        <field path="phones.phone:landline"><xsl:value-of select="."/></field>
      </xsl:for-each>
      <xsl:apply-templates select="cac:PostalAddress[1]"/>
      <xsl:for-each select="cac:PartyTaxScheme/cbc:CompanyID">
        <field path="identifiers.identifier:tax-id"><xsl:value-of select="."/></field>
      </xsl:for-each>
    </fields>
  </xsl:template>

  <xsl:template match="cac:Person">
    <field path="name.given">
      <xsl:value-of select="normalize-space(concat(cbc:FirstName, ' ', cbc:MiddleName))"/>
    </field>
    <field path="name.family"><xsl:value-of select="cbc:FamilyName"/></field>
  </xsl:template>

  <xsl:template match="cac:PostalAddress">
    <field path="addresses.address.street">
      <xsl:value-of select="normalize-space(concat(cbc:StreetName, ' ', cbc:BuildingNumber))"/>
    </field>
    <field path="addresses.address.city"><xsl:value-of select="cbc:CityName"/></field>
    <field path="addresses.address.province"><xsl:value-of select="cbc:CountrySubentity"/></field>
    <field path="addresses.address.postalCode"><xsl:value-of select="cbc:PostalZone"/></field>
    <field path="addresses.address.country">
      <xsl:value-of select="cac:Country/cbc:IdentificationCode"/>
    </field>
  </xsl:template>

  <!-- Anything but a party: say so, and the record waits in quarantine. -->
  <xsl:template match="/*" priority="-1">
    <xsl:message terminate="yes">ubl_parties.xslt maps a UBL cac:Party; this record is
      <xsl:value-of select="name()"/>: check the pipeline's record_xpath</xsl:message>
  </xsl:template>
</xsl:stylesheet>
